package verifier

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// withKID returns k under another kid, so tokens it signs name a kid the
// JWKS does not have.
func withKID(k testKey, kid string) testKey { return testKey{KID: kid, Private: k.Private} }

func TestUnknownKidFloodFetchesOncePerCooldown(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.RefreshCooldown = 30 * time.Second })
	ctx := context.Background()
	if _, err := v.Verify(ctx, mint(t, k, claimsAt(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	// Distinct random kids, all signed by a real key.
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = mint(t, withKID(k, fmt.Sprintf("jwk-test-random-%d", i)), claimsAt(clk.Now()))
	}
	flood := func() {
		var wg sync.WaitGroup
		for _, tok := range toks {
			for range 4 {
				wg.Go(func() {
					if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrUnknownKey) {
						t.Errorf("err = %v, want ErrUnknownKey", err)
					}
				})
			}
		}
		wg.Wait()
	}

	flood() // within the cooldown of the initial fetch: no fetch at all
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("after flood inside the first cooldown: %d fetches, want 1", got)
	}
	for round := 2; round <= 4; round++ {
		clk.Add(30 * time.Second)
		flood()
		flood()
		if got := srv.fetches.Load(); got != int64(round) {
			t.Fatalf("after cooldown %d: %d fetches, want %d", round-1, got, round)
		}
	}
}

func TestRotation(t *testing.T) {
	ks := testKeys()
	srv := newJWKSServer(t, ks[0])
	clk := newClock()
	v := newTestVerifier(t, srv, clk, nil)
	ctx := context.Background()
	old := mint(t, ks[0], claimsAt(clk.Now()))
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}

	// The edge starts signing with a new key and publishes both.
	srv.setKeys(ks[1], ks[0])
	fresh := mint(t, ks[1], claimsAt(clk.Now()))
	if _, err := v.Verify(ctx, fresh); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new kid within the cooldown: err = %v, want ErrUnknownKey", err)
	}
	clk.Add(defaultCooldown)
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("new kid after the cooldown: %v", err)
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("old kid still published: %v", err)
	}

	// The old key is retired: its tokens stop verifying after the next
	// refresh, even though they sit in the verified-token cache.
	srv.setKeys(ks[1])
	if err := v.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, old); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("retired kid: err = %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("current kid: %v", err)
	}
}

func TestJWKSDownAtStart(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	srv.setStatus(http.StatusBadGateway)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, nil) // New does not fail
	ctx := context.Background()
	tok := mint(t, k, claimsAt(clk.Now()))
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	if err := v.JWKSError(); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("JWKSError() = %v, want the 502", err)
	}
	srv.setStatus(http.StatusOK)
	clk.Add(defaultCooldown)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after the JWKS came back: %v", err)
	}
	if err := v.JWKSError(); err != nil {
		t.Fatalf("JWKSError() = %v after a good fetch", err)
	}
}

func TestJWKSDownLaterKeepsLastGoodKeys(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	var logs syncBuffer
	clk := newClock()
	v := newTestVerifier(t, srv, clk, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	if err := v.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srv.setStatus(http.StatusInternalServerError)
	if err := v.Refresh(ctx); err == nil {
		t.Fatal("Refresh against a failing JWKS returned nil")
	}
	srv.Close() // and now it is gone altogether
	if err := v.Refresh(ctx); err == nil {
		t.Fatal("Refresh against a closed server returned nil")
	}
	if v.JWKSError() == nil {
		t.Fatal("JWKSError() = nil while the JWKS is down")
	}
	clk.Add(time.Hour) // past the refresh interval: a background refresh fails too
	tok := mint(t, k, claimsAt(clk.Now()))
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("verify with last good keys: %v", err)
	}
	if !strings.Contains(logs.String(), "JWKS refresh failed") {
		t.Fatalf("no refresh failure logged: %s", logs.String())
	}
}

func TestJWKSBoundedWait(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()
	clk := newClock()
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.KeyWait = 20 * time.Millisecond })
	tok := mint(t, k, claimsAt(clk.Now()))
	// The fetch hangs; Verify gives up after KeyWait instead of hanging too.
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, tok); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("cancelled: err = %v, want ErrKeysUnavailable and context.Canceled", err)
	}
	close(gate)
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the fetch finished: %v", err)
	}
	// Refresh joined the hung fetch, or started one right after it ended.
	if got := srv.fetches.Load(); got < 1 || got > 2 {
		t.Fatalf("%d fetches, want 1 or 2", got)
	}
}

func TestJWKSSkipsBadKeys(t *testing.T) {
	good := testKeys()[0]
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, good)
	other := testKeys()[1].jwk()
	bad := func(edit func(m map[string]any)) map[string]any {
		m := testKeys()[2].jwk()
		edit(m)
		return m
	}
	srv.extra = []map[string]any{
		{"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
		bad(func(m map[string]any) { delete(m, "kid") }),
		bad(func(m map[string]any) { m["n"] = "not base64!" }),
		bad(func(m map[string]any) { m["alg"] = "HS256" }),
		bad(func(m map[string]any) { m["use"] = "enc" }),
		bad(func(m map[string]any) { m["key_ops"] = []string{"encrypt"} }),
		bad(func(m map[string]any) { m["e"] = "AAAAAQAB" }),
		withKID(testKey{Private: weak}, "weak").jwk(),
		{"kty": "RSA", "kid": good.KID, "n": other["n"], "e": other["e"]}, // duplicate kid
		{"kty": 7},
	}
	var logs syncBuffer
	clk := newClock()
	v := newTestVerifier(t, srv, clk, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), mint(t, good, claimsAt(clk.Now()))); err != nil {
		t.Fatalf("good key next to bad ones: %v", err)
	}
	want := int(srv.fetches.Load()) * len(srv.extra) // Refresh may have joined New's fetch
	if got := strings.Count(logs.String(), "skipping JWKS key"); got != want {
		t.Fatalf("%d skipped-key messages, want %d:\n%s", got, want, logs.String())
	}

	// A JWKS with no usable key at all is a failed fetch: the last good
	// set stays.
	srv.setKeys()
	srv.mu.Lock()
	srv.extra = srv.extra[:len(srv.extra)-2] // drop the duplicate, which would now be usable
	srv.mu.Unlock()
	if err := v.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh accepted a JWKS without a usable key")
	}
	if _, err := v.Verify(context.Background(), mint(t, good, claimsAt(clk.Now().Add(-time.Second)))); err != nil {
		t.Fatalf("after an unusable JWKS: %v", err)
	}
}

func TestJWKSRefreshInterval(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	srv.cacheControl = "public, max-age=120"
	clk := newClock()
	v := newTestVerifier(t, srv, clk, nil)
	tok := mint(t, k, claimsAt(clk.Now()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	clk.Add(119 * time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("before max-age: %d fetches, want 1", got)
	}
	clk.Add(time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil { // starts a background refresh
		t.Fatal(err)
	}
	// Refresh joins the background fetch if it still runs, so the count is
	// exactly 2 or (if it already ended) 3.
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := srv.fetches.Load(); got < 2 || got > 3 {
		t.Fatalf("after max-age: %d fetches, want 2 or 3", got)
	}
}

func TestCacheControlInterval(t *testing.T) {
	c := &keyCache{cfg: &settings{minRefresh: time.Minute, maxRefresh: time.Hour}}
	tests := []struct {
		name   string
		header string
		want   time.Duration
	}{
		{name: "absent", header: "", want: defaultRefresh},
		{name: "max-age", header: "max-age=600", want: 10 * time.Minute},
		{name: "among others", header: "public, MAX-AGE=900, must-revalidate", want: 15 * time.Minute},
		{name: "quoted", header: `max-age="600"`, want: 10 * time.Minute},
		{name: "below the range", header: "max-age=5", want: time.Minute},
		{name: "above the range", header: "max-age=999999999999", want: time.Hour},
		{name: "no-store", header: "no-store", want: time.Minute},
		{name: "no-cache wins over max-age", header: "no-cache, max-age=600", want: time.Minute},
		{name: "garbage", header: "max-age=soon", want: defaultRefresh},
		{name: "negative", header: "max-age=-1", want: defaultRefresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.interval(tt.header); got != tt.want {
				t.Fatalf("interval(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// TestJWKSExactNames reads a JWKS as the claims are read: exact member
// names, none repeated. encoding/json would read "KEYS" as keys, "KID" as
// kid, and the last of two kids.
func TestJWKSExactNames(t *testing.T) {
	k := testKeys()[0].jwk()
	member := func(name string, v any) string { b, _ := json.Marshal(v); return fmt.Sprintf("%q:%s", name, b) }
	key := func(extra ...string) string {
		parts := []string{member("kty", "RSA"), member("n", k["n"]), member("e", k["e"])}
		return "{" + strings.Join(append(parts, extra...), ",") + "}"
	}
	good := key(member("kid", k["kid"]))
	c := &keyCache{cfg: &settings{logger: slog.New(slog.DiscardHandler)}}
	for _, tc := range []struct {
		name    string
		doc     string
		wantKid bool // the set holds k's kid
		wantErr bool
	}{
		{name: "exact", doc: `{"keys":[` + good + `]}`, wantKid: true},
		{name: "keys in capitals", doc: `{"KEYS":[` + good + `]}`, wantErr: true},
		{name: "keys twice", doc: `{"keys":[],"keys":[` + good + `]}`, wantErr: true},
		{name: "kid in capitals", doc: `{"keys":[` + key(member("KID", k["kid"])) + `]}`, wantErr: true},
		{name: "kid twice", doc: `{"keys":[` + key(member("kid", "other"), member("kid", k["kid"])) + `]}`, wantErr: true},
		{name: "a repeat in one key refuses all", doc: `{"keys":[` + key(member("kid", "x"), member("kid", "y")) + `,` + good + `]}`, wantErr: true},
		{name: "other members ignored", doc: `{"other":{"a":1},"keys":[` + key(member("kid", k["kid"]), member("x5c", []string{"AA"})) + `]}`, wantKid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := c.parseSet([]byte(tc.doc))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got := set != nil && set.keys[k["kid"].(string)] != nil; got != tc.wantKid {
				t.Fatalf("set holds the key: %v, want %v", got, tc.wantKid)
			}
		})
	}
}
