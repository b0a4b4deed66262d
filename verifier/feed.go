package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// revocationFeed long-polls the edge's GET /v1/sessions/revocations and
// keeps the set of sessions ended early whose JWTs could still be
// unexpired. Verify consults it after a token has passed every other
// check: a session in the set is ErrRevoked; a token the feed cannot
// vouch for is ErrFeedStale. It can vouch for a token when
//
//   - it answered, with nothing more to read, less than feedStaleAfter
//     ago in real (monotonic) time — a healthy host answers a held read
//     at least every feedWait — and
//   - the token was issued after the last reset, if any (a reset means
//     the edge could not continue from the cursor, so events before it
//     may be missing).
//
// See RATIONALE.md, "Why does the verifier fail closed when the
// revocation feed is silent?".
type revocationFeed struct {
	cfg    *settings
	url    string
	client *http.Client // cfg.client without its Timeout: each read has its own deadline

	// fresh: the feed answered, with nothing more to read, less than
	// cfg.feedStale ago. Cleared by a watchdog timer, which each such
	// answer re-arms, and when the feed stops, so that Verify reads one
	// atomic instead of a clock.
	fresh atomic.Bool
	// synced is when the feed last caught up, in monotonic nanoseconds
	// since base (for error messages); 0 before that.
	base   time.Time
	synced atomic.Int64
	// watch guards the watchdog: gen counts answers and stops, so that a
	// watchdog firing late clears nothing newer.
	watch struct {
		sync.Mutex
		gen   uint64
		timer *time.Timer
	}
	// distrust: a token issued (iat) before this Unix second is not
	// vouched for. Set by a reset.
	distrust atomic.Int64
	first    chan struct{} // closed once the first read caught up or failed
	stopped  chan struct{} // closed when run returns

	count       atomic.Int64 // len(revoked), so an empty set costs no lock
	clientCount atomic.Int64 // len(clients.at)
	mu          sync.RWMutex
	revoked     map[string]int64 // session id → Unix second from which it can be forgotten
	order       []revokedEntry   // in arrival order, for ageing
	clients     revokedClients
	lastErr     error // of the latest read; guarded by mu
}

type revokedEntry struct {
	id    string
	until int64
}

// revokedClients are the M2M clients the feed reported as revoked
// (deactivated, deleted, rotated to a new secret), kept while a token
// issued before the revocation could still be unexpired.
type revokedClients struct {
	at    map[string]clientRevocation // client id → latest revocation
	order []revokedEntry              // in arrival order, for ageing
}

type clientRevocation struct {
	at    int64 // revoked_at, Unix seconds: tokens with iat ≤ at are refused
	until int64 // Unix second from which the entry can be forgotten
}

const (
	// feedWait is how long the edge may hold a read (wait=, seconds).
	feedWait = 25
	// feedStaleAfter is the silence after which the feed vouches for no
	// token: a missed heartbeat plus slack for the round trip.
	feedStaleAfter = (feedWait + 10) * time.Second
	// feedReadSlack is how much longer than its wait a read may take.
	feedReadSlack = 10 * time.Second
	// feedMinInterval paces held reads that come back empty at once (a
	// host that does not hold reads), so they cost one a second.
	feedMinInterval = time.Second
	feedRetryMin    = 500 * time.Millisecond
	feedRetryMax    = 5 * time.Second
	// jwtLifetime is how long after iat a Latch session JWT expires. A
	// session revoked at R has no JWT left unexpired after R + jwtLifetime
	// (+ the leeway); revokedSlack covers clocks of different edge
	// machines on top.
	jwtLifetime  = 300
	revokedSlack = 30
	// m2mLifetime is how long after iat a Latch (and Stytch) M2M access
	// token expires: a client revoked at R has no token issued at or
	// before R left unexpired after R + m2mLifetime (+ the leeway and
	// revokedSlack).
	m2mLifetime = 3600
)

func newRevocationFeed(cfg *settings) *revocationFeed {
	client := *cfg.client
	client.Timeout = 0
	return &revocationFeed{
		cfg:     cfg,
		url:     cfg.baseURL + "/v1/sessions/revocations",
		client:  &client,
		base:    time.Now(),
		first:   make(chan struct{}),
		stopped: make(chan struct{}),
		revoked: make(map[string]int64),
		clients: revokedClients{at: make(map[string]clientRevocation)},
	}
}

// check reports whether the feed vouches for e's session (or, for an
// M2M access token, its client) at now: nil, ErrRevoked or ErrFeedStale.
// Until the first read has caught up or failed it waits for it, at most
// Config.KeyWait.
func (f *revocationFeed) check(ctx context.Context, e *verified, now time.Time) error {
	if !f.fresh.Load() {
		f.waitFirst(ctx)
	}
	if e.m2m != nil {
		if e.m2m.until-e.m2m.issued > m2mLifetime {
			// It could outlive its client's entry in the set.
			return fmt.Errorf("%w: M2M token valid for %ds, longer than the feed remembers clients", ErrFeedStale, e.m2m.until-e.m2m.issued)
		}
		if f.clientCount.Load() > 0 {
			f.mu.RLock()
			r, listed := f.clients.at[e.m2m.clientID]
			f.mu.RUnlock()
			if listed && e.iat <= r.at {
				return fmt.Errorf("%w: M2M client %q revoked after the token was issued", ErrRevoked, clip(e.m2m.clientID))
			}
		}
	} else if f.count.Load() > 0 {
		f.mu.RLock()
		_, gone := f.revoked[e.session.SessionID]
		f.mu.RUnlock()
		if gone {
			return fmt.Errorf("%w: session %q", ErrRevoked, clip(e.session.SessionID))
		}
	}
	switch {
	case !f.fresh.Load():
		return f.staleErr()
	case e.iat < f.distrust.Load():
		return fmt.Errorf("%w: token issued before the feed was reset", ErrFeedStale)
	}
	return nil
}

func (f *revocationFeed) staleErr() error {
	synced := f.synced.Load()
	switch {
	case isClosed(f.stopped):
		return fmt.Errorf("%w: the feed is stopped", ErrFeedStale)
	case synced == 0:
		return fmt.Errorf("%w: no answer from the feed yet", ErrFeedStale)
	}
	silent := time.Since(f.base) - time.Duration(synced)
	return fmt.Errorf("%w: no answer for %v", ErrFeedStale, silent.Round(time.Second))
}

// caughtUp records an answer with nothing more to read and re-arms the
// watchdog; with ok false it records that the feed stopped.
func (f *revocationFeed) caughtUp(ok bool) {
	f.watch.Lock()
	defer f.watch.Unlock()
	f.watch.gen++
	if f.watch.timer != nil {
		f.watch.timer.Stop()
		f.watch.timer = nil
	}
	f.fresh.Store(ok)
	if !ok {
		return
	}
	f.synced.Store(int64(max(time.Since(f.base), 1)))
	gen := f.watch.gen
	f.watch.timer = time.AfterFunc(f.cfg.feedStale, func() {
		f.watch.Lock()
		defer f.watch.Unlock()
		if f.watch.gen == gen {
			f.fresh.Store(false)
		}
	})
}

func (f *revocationFeed) waitFirst(ctx context.Context) {
	if isClosed(f.first) {
		return
	}
	t := time.NewTimer(f.cfg.keyWait)
	defer t.Stop()
	select {
	case <-f.first:
	case <-t.C:
	case <-ctx.Done():
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// err returns the error of the latest read, or nil.
func (f *revocationFeed) err() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.lastErr
}

// run reads the feed until ctx is done: at once (wait=0) until caught up,
// then held reads of feedWait, retrying failures with a backoff.
func (f *revocationFeed) run(ctx context.Context) {
	defer close(f.stopped)
	defer f.caughtUp(false) // stopped: the feed vouches for nothing
	var cursor string
	live, retry := false, time.Duration(0)
	done := func() {
		if !isClosed(f.first) {
			close(f.first)
		}
	}
	defer done()
	for ctx.Err() == nil {
		wait := 0
		if live {
			wait = f.cfg.feedWait
		}
		start := time.Now()
		a, err := f.read(ctx, cursor, wait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			live = false
			var re *RemoteError
			if errors.As(err, &re) && re.StatusCode == http.StatusBadRequest && re.ErrorType == "invalid_cursor" {
				// The edge does not know the cursor: start over, as after
				// a reset.
				cursor = ""
				f.distrustFrom(f.cfg.now())
			}
			f.failed(err)
			done()
			retry = min(max(2*retry, feedRetryMin), feedRetryMax)
			sleep(ctx, retry)
			continue
		}
		now := f.cfg.now()
		f.add(a.events, unixSeconds(now))
		if a.reset {
			f.distrustFrom(now)
		}
		cursor = a.cursor
		if a.hasMore {
			live = false
			continue
		}
		f.caughtUp(true)
		f.succeeded()
		live, retry = true, 0
		done()
		if wait > 0 && len(a.events) == 0 && !a.reset {
			sleep(ctx, feedMinInterval-time.Since(start))
		}
	}
}

func (f *revocationFeed) distrustFrom(now time.Time) {
	d := unixSeconds(now) + f.cfg.leeway + 1
	for {
		old := f.distrust.Load()
		if old >= d || f.distrust.CompareAndSwap(old, d) {
			return
		}
	}
}

func (f *revocationFeed) failed(err error) {
	f.mu.Lock()
	first := f.lastErr == nil
	f.lastErr = err
	f.mu.Unlock()
	if first {
		f.cfg.logger.Warn("verifier: revocation feed read failed; retrying, and JWTs go to the edge once it is silent for "+feedStaleAfter.String(),
			"url", f.url, "error", err)
	}
}

func (f *revocationFeed) succeeded() {
	f.mu.Lock()
	was := f.lastErr
	f.lastErr = nil
	f.mu.Unlock()
	if was != nil {
		f.cfg.logger.Info("verifier: revocation feed caught up", "url", f.url)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// add records events and forgets sessions and clients none of whose
// tokens can still be unexpired at now (Unix seconds).
func (f *revocationFeed) add(events []feedEvent, now int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range events {
		if ev.clientID != "" {
			f.clients.add(ev, ev.revokedAt+m2mLifetime+f.cfg.leeway+revokedSlack, now)
			continue
		}
		until := ev.revokedAt + jwtLifetime + f.cfg.leeway + revokedSlack
		if until <= now {
			continue
		}
		if old, ok := f.revoked[ev.sessionID]; ok && old >= until {
			continue
		}
		id := strings.Clone(ev.sessionID) // not the whole answer's text
		f.revoked[id] = until
		f.order = append(f.order, revokedEntry{id: id, until: until})
	}
	i := 0
	for ; i < len(f.order) && f.order[i].until <= now; i++ {
		if e := f.order[i]; f.revoked[e.id] == e.until {
			delete(f.revoked, e.id)
		}
	}
	clear(f.order[:i])
	f.order = f.order[i:]
	f.count.Store(int64(len(f.revoked)))
	f.clients.age(now)
	f.clientCount.Store(int64(len(f.clients.at)))
}

// add records a client event that can be forgotten at until. A client
// revoked again keeps its latest revocation.
func (rc *revokedClients) add(ev feedEvent, until, now int64) {
	if until <= now {
		return
	}
	if old, ok := rc.at[ev.clientID]; ok && old.at >= ev.revokedAt && old.until >= until {
		return
	}
	id := strings.Clone(ev.clientID) // not the whole answer's text
	rc.at[id] = clientRevocation{at: ev.revokedAt, until: until}
	rc.order = append(rc.order, revokedEntry{id: id, until: until})
}

// age forgets the clients whose entries expired by now.
func (rc *revokedClients) age(now int64) {
	i := 0
	for ; i < len(rc.order) && rc.order[i].until <= now; i++ {
		if e := rc.order[i]; rc.at[e.id].until == e.until {
			delete(rc.at, e.id)
		}
	}
	clear(rc.order[:i])
	rc.order = rc.order[i:]
}

// feedAnswer is the edge's 200 answer to a feed read.
type feedAnswer struct {
	events         []feedEvent
	cursor         string
	reset, hasMore bool
}

// feedEvent is a session's early end (sessionID set) or an M2M client's
// revocation (clientID set).
type feedEvent struct {
	sessionID string
	clientID  string
	revokedAt int64 // Unix seconds
}

// read makes one GET /v1/sessions/revocations.
func (f *revocationFeed) read(ctx context.Context, cursor string, wait int) (*feedAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(wait)*time.Second+feedReadSlack)
	defer cancel()
	q := url.Values{"wait": {strconv.Itoa(wait)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("verifier: revocation feed: %w", err)
	}
	req.SetBasicAuth(f.cfg.projectID, f.cfg.secret)
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verifier: revocation feed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("verifier: revocation feed: read: %w", err)
	}
	if len(body) > maxResponseBodyBytes {
		return nil, errors.New("verifier: revocation feed: answer over 1 MiB")
	}
	if resp.StatusCode != http.StatusOK {
		re, ok := readRemoteError(string(body))
		if !ok || re.StatusCode != resp.StatusCode {
			re = &RemoteError{StatusCode: resp.StatusCode, ErrorType: "unexpected_response"}
		}
		return nil, fmt.Errorf("verifier: revocation feed: %w", re)
	}
	a, ok := readFeedAnswer(string(body))
	if !ok {
		return nil, errors.New("verifier: revocation feed: answer is not a JSON object of the expected shape")
	}
	return a, nil
}

// readFeedAnswer reads a feed answer with the exact-name scanner: a
// repeated member name anywhere fails it, as do events without revoked_at
// or without exactly one of session_id and client_id, and an answer
// without events or cursor.
func readFeedAnswer(body string) (*feedAnswer, bool) {
	sc := scanner{s: body, bigNumbers: true}
	a := &feedAnswer{}
	var seen names
	hasEvents := false
	sc.expect('{')
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "events":
			hasEvents = true
			sc.expect('[')
			for first := true; sc.more(']', &first); {
				a.events = append(a.events, sc.readFeedEvent())
			}
		case "cursor":
			a.cursor = sc.str()
		case "reset":
			a.reset = sc.boolean()
		case "has_more":
			a.hasMore = sc.boolean()
		default:
			sc.skipValue(0)
		}
	}
	sc.end()
	return a, !sc.bad && hasEvents && a.cursor != ""
}

func (sc *scanner) readFeedEvent() feedEvent {
	var ev feedEvent
	var at time.Time
	var seen names
	sc.expect('{')
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "session_id":
			ev.sessionID = sc.str()
		case "client_id":
			ev.clientID = sc.str()
		case "revoked_at":
			at = sc.time()
		default:
			sc.skipValue(0)
		}
	}
	if (ev.sessionID == "") == (ev.clientID == "") || at.IsZero() {
		sc.fail()
	}
	ev.revokedAt = at.Unix()
	return ev
}
