// Package verifier checks Latch (and Stytch) session JWTs in origin
// servers: locally against the edge's cached JWKS while the JWT is fresh,
// and through the edge's POST /v1/sessions/authenticate when it is not.
//
// Verify is local only: it cannot see a session revoked since its JWT was
// minted. A JWT lives five minutes; set Config.MaxTokenAge lower, or call
// Authenticate, when that window matters.
package verifier

import (
	"context"
	"sync"
	"time"
)

// Verifier verifies session JWTs. It is safe for concurrent use.
type Verifier struct {
	cfg       settings
	keys      *keyCache
	tokens    *tokenCache
	headers   headerCache
	bufs      sync.Pool // of *[]byte with capacity maxTokenLen
	fallbacks *fallbacks
}

// New validates cfg and returns a Verifier. It starts fetching the JWKS in
// the background and does not wait for it: the first Verify waits at most
// Config.KeyWait, and a JWKS endpoint that is down does not stop New.
// ctx bounds the Verifier's background JWKS fetches; once it is done the
// Verifier keeps serving the keys it has but no longer refreshes them.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: s, fallbacks: newFallbacks(s.maxFallbacks)}
	v.keys = newKeyCache(ctx, &v.cfg)
	v.tokens = newTokenCache(s.tokenCacheCap)
	v.bufs.New = func() any {
		b := make([]byte, 0, maxTokenLen)
		return &b
	}
	v.keys.trigger(true, s.now())
	return v, nil
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
	e, err := v.verify(ctx, token, v.cfg.now())
	if err != nil {
		return nil, err
	}
	return e.session.clone(), nil
}

// unixSeconds is t in whole Unix seconds.
func unixSeconds(t time.Time) int64 { return t.Unix() }
