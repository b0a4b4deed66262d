package verifier

import (
	"crypto/rsa"
	"sync"
)

// tokenCache remembers tokens that verified, so that the same JWT seen
// again costs a hash and a map lookup instead of an RSA operation. It is
// keyed by the SHA-256 of the signing input, which Verify computes anyway;
// an entry also holds the signature, so a hit means the whole token is
// the one that verified. Entries stay valid no longer than the token's own
// exp and maximum age, and only while their key is still in the JWKS.
//
// Each shard keeps two generations of entries: when the current map is
// full it becomes the previous one and the old previous one is dropped,
// which bounds memory without per-entry bookkeeping. See RATIONALE.md,
// "Why a verified-token cache?".
type tokenCache struct {
	perGen int
	shards [tokenShards]tokenShard
}

const tokenShards = 16

type tokenShard struct {
	mu       sync.RWMutex
	cur, old map[[32]byte]*verified
}

// verified is one token that passed every check.
type verified struct {
	sig     string // the token's encoded signature
	kid     string
	key     *rsa.PublicKey
	from    int64      // first Unix second at which the token is acceptable
	until   int64      // first Unix second at which it no longer is
	iat     int64      // the token's iat, for the revocation feed's check
	session Session    // of a session JWT
	m2m     *m2mClaims // of an M2M access token; nil for a session JWT
}

func newTokenCache(capacity int) *tokenCache {
	if capacity <= 0 {
		return nil
	}
	return &tokenCache{perGen: max(1, capacity/(2*tokenShards))}
}

func (c *tokenCache) get(sum *[32]byte, sig string, now int64) *verified {
	if c == nil {
		return nil
	}
	sh := &c.shards[sum[0]%tokenShards]
	sh.mu.RLock()
	e, inOld := sh.cur[*sum], false
	if e == nil {
		e, inOld = sh.old[*sum], true
	}
	sh.mu.RUnlock()
	if e == nil || e.sig != sig || now < e.from || now >= e.until {
		return nil
	}
	if inOld {
		sh.mu.Lock()
		sh.insert(sum, e, c.perGen)
		sh.mu.Unlock()
	}
	return e
}

// drop forgets the token whose hash is sum.
func (c *tokenCache) drop(sum *[32]byte) {
	if c == nil {
		return
	}
	sh := &c.shards[sum[0]%tokenShards]
	sh.mu.Lock()
	delete(sh.cur, *sum)
	delete(sh.old, *sum)
	sh.mu.Unlock()
}

func (c *tokenCache) put(sum *[32]byte, e *verified) {
	if c == nil {
		return
	}
	sh := &c.shards[sum[0]%tokenShards]
	sh.mu.Lock()
	sh.insert(sum, e, c.perGen)
	sh.mu.Unlock()
}

func (sh *tokenShard) insert(sum *[32]byte, e *verified, perGen int) {
	switch {
	case sh.cur == nil:
		sh.cur = make(map[[32]byte]*verified, perGen)
	case len(sh.cur) >= perGen:
		// The previous generation is dropped; its map is emptied and
		// reused for the new current one.
		sh.old, sh.cur = sh.cur, sh.old
		if sh.cur == nil {
			sh.cur = make(map[[32]byte]*verified, perGen)
		}
		clear(sh.cur)
	}
	sh.cur[*sum] = e
}
