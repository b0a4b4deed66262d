package verifier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// fallbacks bounds what Authenticate's calls to the edge can cost. Every
// token that needs the edge (expired, too old, unknown kid) costs a call
// carrying the project secret, and a forged token can need the edge as
// often as someone cares to send it. So:
//
//   - identical concurrent calls are coalesced: one call per token hash
//     is in flight, and every caller with that token waits for its answer;
//   - a session_not_found answer is remembered for notFoundTTL, by token
//     hash, in a bounded cache: the same token again costs nothing;
//   - at most Config.MaxConcurrentFallbacks calls are in flight; a call
//     waits up to fallbackWait for a slot and then fails with ErrBusy.
//
// See RATIONALE.md, "Why are edge fallbacks coalesced, remembered and
// bounded?".
type fallbacks struct {
	slots chan struct{}

	mu       sync.Mutex
	calls    map[[32]byte]*fallbackCall
	notFound [2]map[[32]byte]notFoundEntry // current and previous generation
}

const (
	notFoundTTL       = 30 * time.Second
	notFoundCacheSize = 4096 // entries, both generations together
	fallbackWait      = 5 * time.Second
	fallbackTimeout   = 30 * time.Second
)

// fallbackCall is one call to the edge and its answer, shared by every
// caller with the same token. The answer is set before done is closed.
type fallbackCall struct {
	done    chan struct{}
	waiters int // callers that joined it, guarded by fallbacks.mu
	session *Session
	jwt     string
	err     error
}

type notFoundEntry struct {
	until time.Time
	re    RemoteError
}

func newFallbacks(limit int) *fallbacks {
	return &fallbacks{slots: make(chan struct{}, limit), calls: make(map[[32]byte]*fallbackCall)}
}

// rememberedLocked returns the session_not_found answer remembered for
// sum, or nil.
func (f *fallbacks) rememberedLocked(sum *[32]byte, now time.Time) *RemoteError {
	for _, gen := range f.notFound {
		if e, ok := gen[*sum]; ok && now.Before(e.until) {
			re := e.re
			return &re
		}
	}
	return nil
}

func (f *fallbacks) rememberLocked(sum *[32]byte, re *RemoteError, now time.Time) {
	if f.notFound[0] == nil || len(f.notFound[0]) >= notFoundCacheSize/2 {
		f.notFound[1] = f.notFound[0]
		f.notFound[0] = make(map[[32]byte]notFoundEntry)
	}
	f.notFound[0][*sum] = notFoundEntry{until: now.Add(notFoundTTL), re: *re}
}

// do returns the edge's answer for the token whose hash is sum: a
// remembered session_not_found, the answer of a call already in flight
// for the same token, or that of a new call to call. It waits for the
// answer until ctx is done; the call itself does not depend on ctx's
// cancellation (other callers may be waiting for it) and is bounded by
// fallbackWait and fallbackTimeout instead. now is the Verifier's clock.
func (f *fallbacks) do(ctx context.Context, sum [32]byte, now func() time.Time,
	call func(context.Context) (*Session, string, error)) (*Session, string, error) {
	f.mu.Lock()
	if re := f.rememberedLocked(&sum, now()); re != nil {
		f.mu.Unlock()
		return nil, "", re
	}
	c, ok := f.calls[sum]
	if !ok {
		c = &fallbackCall{done: make(chan struct{})}
		f.calls[sum] = c
		go f.run(context.WithoutCancel(ctx), sum, c, now, call)
	}
	c.waiters++
	f.mu.Unlock()

	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, "", fmt.Errorf("%w: %w", ErrUnavailable, context.Cause(ctx))
	}
	if c.err != nil {
		var re *RemoteError
		if errors.As(c.err, &re) && error(re) == c.err {
			cp := *re // each caller gets its own
			return nil, "", &cp
		}
		return nil, "", c.err
	}
	return c.session.clone(), c.jwt, nil
}

func (f *fallbacks) run(ctx context.Context, sum [32]byte, c *fallbackCall, now func() time.Time,
	call func(context.Context) (*Session, string, error)) {
	c.session, c.jwt, c.err = f.bounded(ctx, call)
	f.mu.Lock()
	var re *RemoteError
	if errors.As(c.err, &re) && errors.Is(re, ErrSessionNotFound) {
		f.rememberLocked(&sum, re, now())
	}
	delete(f.calls, sum)
	f.mu.Unlock()
	close(c.done)
}

// bounded makes the call once a slot is free.
func (f *fallbacks) bounded(ctx context.Context, call func(context.Context) (*Session, string, error)) (*Session, string, error) {
	wait := time.NewTimer(fallbackWait)
	defer wait.Stop()
	select {
	case f.slots <- struct{}{}:
	case <-wait.C:
		return nil, "", ErrBusy
	}
	defer func() { <-f.slots }()
	ctx, cancel := context.WithTimeout(ctx, fallbackTimeout)
	defer cancel()
	return call(ctx)
}
