// Package verifier checks Latch (and Stytch) session JWTs in origin
// servers: locally against the edge's cached JWKS while the JWT is fresh,
// and through the edge's POST /v1/sessions/authenticate when it is not.
//
// Verify is local. With Config.Secret set it also follows the edge's
// revocation feed in the background, so that a JWT of a session ended
// early fails with ErrRevoked within about a second, and a JWT the feed
// cannot vouch for (the feed silent, or reset since the JWT was issued)
// fails with ErrFeedStale, which Authenticate and Middleware take to the
// edge. Without the feed (no Secret, or Config.DisableRevocationFeed) a
// revoked session's JWT keeps verifying until it expires, five minutes
// at most.
//
// VerifyM2M checks M2M access tokens (the client credentials grant's JWTs,
// under the same keys) and their scopes, locally; M2MMiddleware guards an
// API with them. With the feed on, a token of a client deactivated,
// deleted or rotated to a new secret since the token was issued fails
// with ErrRevoked within about a second. Neither Verify nor VerifyM2M
// accepts the other's kind of token.
package verifier

import (
	"context"
	"sync"
	"time"
)

// Verifier verifies session JWTs and M2M access tokens. It is safe for
// concurrent use.
type Verifier struct {
	cfg       settings
	keys      *keyCache
	tokens    *tokenCache
	headers   headerCache
	bufs      sync.Pool // of *[]byte with capacity maxTokenLen
	fallbacks *fallbacks
	feed      *revocationFeed // nil when off
	stop      context.CancelFunc
}

// New validates cfg and returns a Verifier. It starts fetching the JWKS in
// the background and does not wait for it: the first Verify waits at most
// Config.KeyWait, and a JWKS endpoint that is down does not stop New.
// With the revocation feed on, New also starts its long-poll, and the
// first Verify waits for its first answer the same way.
//
// ctx bounds the Verifier's background work, as Close does: once either
// is done the Verifier keeps serving the keys it has but no longer
// refreshes them, and the revocation feed stops (Verify then fails with
// ErrFeedStale for every JWT that passes its other checks).
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: s, fallbacks: newFallbacks(s.maxFallbacks)}
	ctx, v.stop = context.WithCancel(ctx)
	v.keys = newKeyCache(ctx, &v.cfg)
	if s.feed {
		v.feed = newRevocationFeed(&v.cfg)
		go v.feed.run(ctx)
	}
	v.tokens = newTokenCache(s.tokenCacheCap)
	v.bufs.New = func() any {
		b := make([]byte, 0, maxTokenLen)
		return &b
	}
	v.keys.trigger(true, s.now())
	return v, nil
}

// Close stops the Verifier's background work, the revocation feed's
// long-poll and JWKS refreshes, and returns once the feed has stopped. It
// is safe to call more than once. A closed Verifier still verifies with
// the keys it has, but with the feed on it can no longer vouch for any
// session: Verify fails with ErrFeedStale, and Authenticate asks the
// edge. Close always returns nil.
func (v *Verifier) Close() error {
	v.stop()
	if v.feed != nil {
		<-v.feed.stopped
	}
	return nil
}

// RevocationFeedError returns the error of the revocation feed's latest
// read, or nil if it succeeded or the feed is off. The feed retries
// meanwhile; see ErrFeedStale for what Verify does while it fails.
func (v *Verifier) RevocationFeedError() error {
	if v.feed == nil {
		return nil
	}
	return v.feed.err()
}

// Refresh fetches the JWKS now, whatever the cooldown, and returns the
// fetch's error. On error the last good keys stay in use.
func (v *Verifier) Refresh(ctx context.Context) error {
	return v.keys.refresh(ctx)
}

// JWKSError returns the error of the latest JWKS fetch, or nil if it
// succeeded. Verification goes on with the last good keys meanwhile.
func (v *Verifier) JWKSError() error {
	return v.keys.err()
}

// Verify checks a session JWT locally and returns its session. It accepts
// only RS256 with a kid from the JWKS, typ JWT, iss stytch.com/<project_id>
// (or the base URL, if configured), an aud containing the project id, and
// exp, nbf, iat and the maximum age within Config.Leeway. It makes no
// network call except the JWKS fetch an unknown kid may cause. The
// Session is the caller's own to change.
func (v *Verifier) Verify(ctx context.Context, token string) (*Session, error) {
	e, err := v.verify(ctx, token, false, v.cfg.now())
	if err != nil {
		return nil, err
	}
	return e.session.clone(), nil
}

// unixSeconds is t in whole Unix seconds.
func unixSeconds(t time.Time) int64 { return t.Unix() }
