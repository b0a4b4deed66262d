//go:build latchtest

package verifier

import (
	"crypto/sha256"
	"strings"
	"time"
)

// This file lets Latch's own tests of the verifier against the engine
// (testharness/verifier_*_test.go, in the root module) reach the few
// internals they check. Those tests cannot be in this package: they
// import the engine, which the verifier module does not require. It is
// built only with -tags latchtest, which make test and make vet set, and
// is no part of the package's API. See RATIONALE.md, "Why is the
// verifier its own module, and why a replace?".

// HookFeedTiming sets the revocation feed's held-read wait (seconds) and
// its silence bound; 0 keeps the default.
func HookFeedTiming(c *Config, wait int, stale time.Duration) {
	c.feedWait, c.feedStale = wait, stale
}

// HookNeedsEdge reports whether Authenticate takes a Verify failure err
// to the edge.
func HookNeedsEdge(err error) bool { return needsEdge(err) }

// HookTokenCached reports whether the verified-token cache answers for
// token at now.
func HookTokenCached(v *Verifier, token string, now time.Time) bool {
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return false
	}
	sum := sha256.Sum256([]byte(token[:dot]))
	return v.tokens.get(&sum, token[dot+1:], unixSeconds(now)) != nil
}

// HookRevokedCount returns the number of sessions in the revocation
// feed's revoked set and of entries in its ageing queue.
func HookRevokedCount(v *Verifier) (sessions, queued int) {
	v.feed.mu.RLock()
	defer v.feed.mu.RUnlock()
	return len(v.feed.revoked), len(v.feed.order)
}

// HookFeedSynced returns when the feed last caught up, in monotonic
// nanoseconds since it started; 0 before that.
func HookFeedSynced(v *Verifier) int64 { return v.feed.synced.Load() }

// HookFallbackWaiters returns the number of callers waiting on the edge
// call in flight for token.
func HookFallbackWaiters(v *Verifier, token string) int {
	v.fallbacks.mu.Lock()
	defer v.fallbacks.mu.Unlock()
	if c := v.fallbacks.calls[sha256.Sum256([]byte(token))]; c != nil {
		return c.waiters
	}
	return 0
}
