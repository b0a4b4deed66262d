package verifier

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// benchTokens are distinct session JWTs (different sessions and iat)
// signed by testKeys()[0], valid at newClock().Now().
var benchTokens = sync.OnceValue(func() []string {
	k := testKeys()[0]
	clk := newClock()
	out := make([]string, 512)
	for i := range out {
		c := claimsAt(clk.Now().Add(-time.Duration(i%200) * time.Second))
		c["https://stytch.com/session"].(map[string]any)["id"] = fmt.Sprintf("session-test-fe6c042b-6286-479f-8a4a-%012d", i)
		out[i] = mint(&testing.B{}, k, c)
	}
	return out
})

// BenchmarkVerify compares, on the same tokens in the same run:
//   - cold: Verify on a token it has not seen (the verified-token cache is
//     emptied after each pass over the tokens, outside the timer);
//   - repeat: Verify on a token it verified before;
//   - rsa: the bare RSA check of the token (SHA-256 of the signing input,
//     base64 decoding of the signature, rsa.VerifyPKCS1v15);
//   - rsa-precomputed: rsa.VerifyPKCS1v15 alone, hash and signature
//     decoded beforehand;
//   - golang-jwt: jwt.Parse with a static key and jwt.MapClaims;
//   - cold-feed, repeat-feed: cold and repeat with the revocation feed
//     on, healthy, its revoked set holding 1000 other sessions.
func BenchmarkVerify(b *testing.B) {
	k := testKeys()[0]
	pub := &k.Private.PublicKey
	toks := benchTokens()
	srv := newJWKSServer(b, k)
	clk := newClock()
	ctx := context.Background()

	plain := func(b *testing.B) *Verifier { return newTestVerifier(b, srv, clk, nil) }
	withFeed := func(b *testing.B) *Verifier { return newFeedBenchVerifier(b, srv, clk) }
	cold := func(newV func(*testing.B) *Verifier) func(*testing.B) {
		return func(b *testing.B) {
			v := newV(b)
			if _, err := v.Verify(ctx, toks[0]); err != nil { // load the JWKS
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuPerOp(b, cpuTime(b))
			for i := 0; b.Loop(); i++ {
				if i%len(toks) == 0 {
					b.StopTimer()
					v.tokens = newTokenCache(v.cfg.tokenCacheCap)
					b.StartTimer()
				}
				if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	repeat := func(newV func(*testing.B) *Verifier) func(*testing.B) {
		return func(b *testing.B) {
			v := newV(b)
			if _, err := v.Verify(ctx, toks[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer cpuPerOp(b, cpuTime(b))
			for b.Loop() {
				if _, err := v.Verify(ctx, toks[0]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("cold", cold(plain))
	b.Run("cold-feed", cold(withFeed))
	b.Run("repeat", repeat(plain))
	b.Run("repeat-feed", repeat(withFeed))
	b.Run("rsa", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b, cpuTime(b))
		for i := 0; b.Loop(); i++ {
			tok := toks[i%len(toks)]
			_, dot := splitToken(tok)
			sum := sha256.Sum256([]byte(tok[:dot]))
			sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
			if err != nil {
				b.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rsa-precomputed", func(b *testing.B) {
		sums := make([][32]byte, len(toks))
		sigs := make([][]byte, len(toks))
		for i, tok := range toks {
			_, dot := splitToken(tok)
			sums[i] = sha256.Sum256([]byte(tok[:dot]))
			sigs[i], _ = base64.RawURLEncoding.DecodeString(tok[dot+1:])
		}
		b.ReportAllocs()
		defer cpuPerOp(b, cpuTime(b))
		for i := 0; b.Loop(); i++ {
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sums[i%len(toks)][:], sigs[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clk.Now),
			jwt.WithAudience(testProject), jwt.WithIssuer("stytch.com/"+testProject), jwt.WithExpirationRequired())
		keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
		b.ReportAllocs()
		defer cpuPerOp(b, cpuTime(b))
		for i := 0; b.Loop(); i++ {
			if _, err := p.Parse(toks[i%len(toks)], keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParse measures the parsing steps of a cold Verify apart.
func BenchmarkParse(b *testing.B) {
	tok := benchTokens()[0]
	d1 := strings.IndexByte(tok, '.')
	d2 := strings.LastIndexByte(tok, '.')
	v := &Verifier{cfg: settings{projectID: testProject, issuer: "stytch.com/" + testProject}}
	b.Run("header", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseHeader(tok[:d1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	buf := make([]byte, maxTokenLen)
	b.Run("decode-payload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeSegment(buf, tok[d1+1:d2])
		}
	})
	n, _ := decodeSegment(buf, tok[d1+1:d2])
	p := string(buf[:n])
	b.Run("claims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s Session
			if _, err := v.readClaims(p, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claims-encoding-json", func(b *testing.B) {
		// The same claims through encoding/json into equivalent structs,
		// for comparison.
		type factor struct {
			Type        string    `json:"type"`
			Delivery    string    `json:"delivery_method"`
			LastAuth    time.Time `json:"last_authenticated_at"`
			EmailFactor *struct {
				ID      string `json:"email_id"`
				Address string `json:"email_address"`
			} `json:"email_factor"`
		}
		type claims struct {
			Iss     string   `json:"iss"`
			Sub     string   `json:"sub"`
			Aud     []string `json:"aud"`
			Exp     int64    `json:"exp"`
			Nbf     int64    `json:"nbf"`
			Iat     int64    `json:"iat"`
			Session struct {
				ID             string     `json:"id"`
				StartedAt      time.Time  `json:"started_at"`
				LastAccessedAt time.Time  `json:"last_accessed_at"`
				ExpiresAt      time.Time  `json:"expires_at"`
				Attributes     Attributes `json:"attributes"`
				Factors        []factor   `json:"authentication_factors"`
				Roles          []string   `json:"roles"`
			} `json:"https://stytch.com/session"`
		}
		raw := []byte(p)
		b.ReportAllocs()
		for b.Loop() {
			var c claims
			if err := json.Unmarshal(raw, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchFeed serves a revocation feed whose backlog holds n sessions
// (none of them benchTokens') revoked at clk's now, and which then holds
// every read for its whole wait: a quiet feed, as a healthy edge serves it.
func benchFeed(clk *clock, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		q := r.URL.Query()
		if q.Get("cursor") == "" {
			events := make([]map[string]string, n)
			for i := range events {
				events[i] = map[string]string{"session_id": fmt.Sprintf("session-test-revoked-%d", i),
					"user_id": "user-test-x", "revoked_at": clk.Now().UTC().Format(time.RFC3339)}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"events": events, "cursor": "1", "reset": false, "has_more": false})
			return
		}
		wait, _ := strconv.Atoi(q.Get("wait"))
		select {
		case <-time.After(time.Duration(wait) * time.Second):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, `{"events":[],"cursor":"1","reset":false,"has_more":false}`)
	}
}

// newFeedBenchVerifier is newTestVerifier with the revocation feed on,
// against srv's benchFeed holding 1000 revoked sessions.
func newFeedBenchVerifier(b *testing.B, srv *jwksServer, clk *clock) *Verifier {
	srv.mu.Lock()
	srv.feed = benchFeed(clk, 1000)
	srv.mu.Unlock()
	v := newTestVerifier(b, srv, clk, func(c *Config) { c.DisableRevocationFeed = false })
	if _, err := v.Verify(context.Background(), benchTokens()[0]); err != nil {
		b.Fatal(err)
	}
	if v.feed.count.Load() != 1000 {
		b.Fatalf("%d revoked sessions, want 1000", v.feed.count.Load())
	}
	return v
}

// benchM2MTokens are distinct M2M access tokens (different clients and
// iat) signed by testKeys()[0], valid at newClock().Now().
var benchM2MTokens = sync.OnceValue(func() []string {
	k := testKeys()[0]
	clk := newClock()
	out := make([]string, 512)
	for i := range out {
		c := m2mClaimsAt(clk.Now().Add(-time.Duration(i%200) * time.Second))
		c["sub"] = fmt.Sprintf("m2m-client-test-0d6f4a3e-5b1c-4f2a-9e8d-%012d", i)
		out[i] = mint(&testing.B{}, k, c)
	}
	return out
})

// BenchmarkVerifyM2M is BenchmarkVerify for VerifyM2M with one required
// scope, on the same kinds of arms: cold and repeat, with the revocation
// feed off and on (healthy, 1000 revoked sessions), and the bare RSA
// check of the same tokens.
func BenchmarkVerifyM2M(b *testing.B) {
	k := testKeys()[0]
	pub := &k.Private.PublicKey
	toks := benchM2MTokens()
	srv := newJWKSServer(b, k)
	clk := newClock()
	ctx := context.Background()

	plain := func(b *testing.B) *Verifier { return newTestVerifier(b, srv, clk, nil) }
	withFeed := func(b *testing.B) *Verifier { return newFeedBenchVerifier(b, srv, clk) }
	cold := func(newV func(*testing.B) *Verifier) func(*testing.B) {
		return func(b *testing.B) {
			v := newV(b)
			if _, err := v.VerifyM2M(ctx, toks[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuPerOp(b, cpuTime(b))
			for i := 0; b.Loop(); i++ {
				if i%len(toks) == 0 {
					b.StopTimer()
					v.tokens = newTokenCache(v.cfg.tokenCacheCap)
					b.StartTimer()
				}
				if _, err := v.VerifyM2M(ctx, toks[i%len(toks)], "read:users"); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	repeat := func(newV func(*testing.B) *Verifier) func(*testing.B) {
		return func(b *testing.B) {
			v := newV(b)
			if _, err := v.VerifyM2M(ctx, toks[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer cpuPerOp(b, cpuTime(b))
			for b.Loop() {
				if _, err := v.VerifyM2M(ctx, toks[0], "read:users"); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("cold", cold(plain))
	b.Run("cold-feed", cold(withFeed))
	b.Run("repeat", repeat(plain))
	b.Run("repeat-feed", repeat(withFeed))
	b.Run("rsa", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b, cpuTime(b))
		for i := 0; b.Loop(); i++ {
			tok := toks[i%len(toks)]
			_, dot := splitToken(tok)
			sum := sha256.Sum256([]byte(tok[:dot]))
			sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
			if err != nil {
				b.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}
