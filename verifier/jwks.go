package verifier

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// keyCache holds the JWKS. Readers load the current key set with one
// atomic load; at most one fetch runs at a time, and fetches caused by
// unknown kids or failures are at least a cooldown apart. See
// RATIONALE.md, "What does the JWKS cache do on an unknown kid?".
type keyCache struct {
	cfg  *settings
	url  string
	life context.Context

	set         atomic.Pointer[keySet]
	nextRefresh atomic.Int64 // cfg.now() in Unix nanoseconds

	mu          sync.Mutex
	inflight    chan struct{} // closed when the running fetch ends; nil when none runs
	lastAttempt time.Time
	lastErr     error
}

// keySet is one immutable snapshot of the JWKS.
type keySet struct {
	keys map[string]*rsa.PublicKey
}

func newKeyCache(life context.Context, cfg *settings) *keyCache {
	return &keyCache{
		cfg:  cfg,
		url:  cfg.baseURL + "/v1/sessions/jwks/" + url.PathEscape(cfg.projectID),
		life: life,
	}
}

// lookup returns the key for kid, fetching the JWKS when kid is unknown
// (subject to the cooldown) and waiting for that fetch at most KeyWait.
func (c *keyCache) lookup(ctx context.Context, kid string, now time.Time) (*rsa.PublicKey, error) {
	if k := c.known(kid, now); k != nil {
		return k, nil
	}
	if done := c.trigger(false, now); done != nil {
		c.wait(ctx, done)
	}
	set := c.set.Load()
	if set == nil {
		return nil, c.unavailable(ctx)
	}
	if k := set.keys[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKey, clip(kid))
}

// known returns the cached key for kid, or nil, and starts a background
// refresh when the refresh interval has passed.
func (c *keyCache) known(kid string, now time.Time) *rsa.PublicKey {
	if now.UnixNano() >= c.nextRefresh.Load() {
		c.trigger(false, now)
	}
	if set := c.set.Load(); set != nil {
		return set.keys[kid]
	}
	return nil
}

func (c *keyCache) unavailable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if err := c.err(); err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return fmt.Errorf("%w: JWKS fetch still running after %v", ErrKeysUnavailable, c.cfg.keyWait)
}

func (c *keyCache) wait(ctx context.Context, done <-chan struct{}) {
	t := time.NewTimer(c.cfg.keyWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// trigger starts a fetch unless one is running (then it returns that
// one's channel) or, unless force is set, the last one started less than a
// cooldown ago (then it returns nil).
func (c *keyCache) trigger(force bool, now time.Time) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight != nil {
		return c.inflight
	}
	if !force && !c.lastAttempt.IsZero() && now.Sub(c.lastAttempt) < c.cfg.cooldown {
		// Hot-path readers need not come back before the cooldown ends.
		c.nextRefresh.Store(max(c.nextRefresh.Load(), c.lastAttempt.Add(c.cfg.cooldown).UnixNano()))
		return nil
	}
	c.lastAttempt = now
	// Until this fetch ends, hot-path readers need not call trigger.
	c.nextRefresh.Store(now.Add(c.cfg.cooldown).UnixNano())
	done := make(chan struct{})
	c.inflight = done
	go c.fetch(done)
	return done
}

// refresh fetches the JWKS now (joining a fetch already running) and
// returns that fetch's error.
func (c *keyCache) refresh(ctx context.Context) error {
	done := c.trigger(true, c.cfg.now())
	select {
	case <-done:
		return c.err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *keyCache) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *keyCache) fetch(done chan struct{}) {
	ctx, cancel := context.WithTimeout(c.life, fetchTimeout)
	defer cancel()
	set, interval, err := c.download(ctx)
	now := c.cfg.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.lastErr = err
		c.nextRefresh.Store(now.Add(c.cfg.cooldown).UnixNano())
		kept := 0
		if old := c.set.Load(); old != nil {
			kept = len(old.keys)
		}
		c.cfg.logger.Warn("verifier: JWKS refresh failed, keeping last good keys",
			"url", c.url, "kept_keys", kept, "error", err)
	} else {
		c.set.Store(set)
		c.lastErr = nil
		c.nextRefresh.Store(now.Add(interval).UnixNano())
	}
	c.inflight = nil
	close(done)
}

// jwk is one public key of the JWKS, as served.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	KeyOps []string `json:"key_ops"`
	N      string   `json:"n"`
	E      string   `json:"e"`
}

func (c *keyCache) download(ctx context.Context) (*keySet, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: jwks: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBodyBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: jwks: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("verifier: jwks: %s answered %d", c.url, resp.StatusCode)
	}
	if len(body) > maxResponseBodyBytes {
		return nil, 0, errors.New("verifier: jwks: response over 1 MiB")
	}
	set, err := c.parseSet(body)
	if err != nil {
		return nil, 0, err
	}
	return set, c.interval(resp.Header.Get("Cache-Control")), nil
}

// parseSet keeps every usable RS256 signing key and skips (and logs) the
// rest. A set with no usable key is an error, so the last good set stays.
// The document is read like a JWT's claims: member names matched exactly,
// and a name repeated in any object refuses the whole document, as which of
// the two was meant cannot be known. A key whose members have the wrong
// types is skipped, like any other unusable key.
func (c *keyCache) parseSet(body []byte) (*keySet, error) {
	sc := scanner{s: string(body)}
	var seen names
	var keys []jwk
	var bad []bool // per key: members of the wrong type
	sc.expect('{')
	for first := true; sc.more('}', &first); {
		if sc.key(&seen) != "keys" {
			sc.skipValue(0)
			continue
		}
		sc.expect('[')
		for first := true; sc.more(']', &first); {
			k, ok := readJWK(sc.skip())
			keys, bad = append(keys, k), append(bad, !ok)
		}
	}
	sc.end()
	if sc.bad {
		return nil, errors.New("verifier: jwks: not a JSON object with exact, unique member names")
	}
	set := &keySet{keys: make(map[string]*rsa.PublicKey, len(keys))}
	for i, k := range keys {
		err := errors.New("verifier: jwks: a member of the wrong type")
		if !bad[i] {
			err = set.add(k)
		}
		if err != nil {
			c.cfg.logger.Warn("verifier: skipping JWKS key", "index", i, "kid", clip(k.Kid), "error", err)
		}
	}
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("verifier: jwks: none of %d keys is a usable RS256 key", len(keys))
	}
	return set, nil
}

// readJWK reads one key of a JWKS, the JSON text of an object already
// checked for repeated names: the members Latch uses, by exact name.
func readJWK(raw string) (k jwk, ok bool) {
	sc := scanner{s: raw}
	var seen names
	sc.expect('{')
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "kty":
			k.Kty = sc.optStr()
		case "use":
			k.Use = sc.optStr()
		case "alg":
			k.Alg = sc.optStr()
		case "kid":
			k.Kid = sc.optStr()
		case "n":
			k.N = sc.optStr()
		case "e":
			k.E = sc.optStr()
		case "key_ops":
			k.KeyOps = sc.strings([]string{})
		default:
			sc.skipValue(0)
		}
	}
	sc.end()
	return k, !sc.bad
}

func (s *keySet) add(k jwk) error {
	switch {
	case k.Kid == "":
		return errors.New("verifier: jwks: key without kid")
	case k.Kty != "RSA":
		return fmt.Errorf("verifier: jwks: kty %q is not RSA", clip(k.Kty))
	case k.Use != "" && k.Use != "sig":
		return fmt.Errorf("verifier: jwks: use %q is not sig", clip(k.Use))
	case k.Alg != "" && k.Alg != "RS256":
		return fmt.Errorf("verifier: jwks: alg %q is not RS256", clip(k.Alg))
	case k.KeyOps != nil && !contains(k.KeyOps, "verify"):
		return errors.New("verifier: jwks: key_ops lacks verify")
	case s.keys[k.Kid] != nil:
		return errors.New("verifier: jwks: duplicate kid")
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return fmt.Errorf("verifier: jwks: n: %w", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return fmt.Errorf("verifier: jwks: e: %w", err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 0}
	if bits := pub.N.BitLen(); bits < 2048 || bits > 8192 {
		return fmt.Errorf("verifier: jwks: %d-bit modulus outside 2048…8192", bits)
	}
	if len(e) == 0 || len(e) > 4 {
		return errors.New("verifier: jwks: bad exponent")
	}
	for _, b := range e {
		pub.E = pub.E<<8 | int(b)
	}
	if pub.E < 3 || pub.E&1 == 0 || pub.E > 1<<31-1 || pub.N.Bit(0) == 0 {
		return errors.New("verifier: jwks: bad exponent or modulus")
	}
	s.keys[k.Kid] = pub
	return nil
}

// interval turns Cache-Control into the time until the next refresh.
func (c *keyCache) interval(cacheControl string) time.Duration {
	d, noCache := defaultRefresh, false
	for part := range strings.SplitSeq(cacheControl, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(name) {
		case "max-age":
			if secs, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && secs >= 0 {
				d = time.Duration(min(secs, int64(365*24*3600))) * time.Second
			}
		case "no-cache", "no-store":
			noCache = true
		}
	}
	if noCache {
		d = 0
	}
	return min(max(d, c.cfg.minRefresh), c.cfg.maxRefresh)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clip shortens untrusted text before it goes into an error or a log.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
