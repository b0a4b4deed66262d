package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testIssuer is an OpenID provider in memory: its discovery document and
// its keys, answered through a Fetcher, and ID tokens signed by its keys.
type testIssuer struct {
	t      *testing.T
	url    string
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
	now    time.Time

	mu        sync.Mutex
	keyReads  int
	discovery map[string]any
	rsaOnly   bool // the key set holds the RSA key alone
}

func newTestIssuer(t *testing.T) *testIssuer {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{t: t, url: "https://idp.example.com", rsaKey: rk, ecKey: ek, now: time.Unix(1_800_000_000, 0)}
	iss.discovery = map[string]any{
		"issuer": iss.url, "authorization_endpoint": iss.url + "/authorize", "token_endpoint": iss.url + "/token",
		"jwks_uri": iss.url + "/keys", "code_challenge_methods_supported": []string{"S256"},
	}
	return iss
}

func b64int(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (iss *testIssuer) Fetch(_ context.Context, req *Request) (*Response, error) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var body any
	switch req.URL {
	case iss.url + "/.well-known/openid-configuration":
		body = iss.discovery
	case iss.url + "/keys":
		iss.keyReads++
		point, err := iss.ecKey.PublicKey.Bytes() // 0x04 || x || y
		if err != nil {
			return nil, err
		}
		x, y := point[1:33], point[33:65]
		keys := []map[string]string{
			{"kty": "RSA", "kid": "r1", "use": "sig", "n": b64int(iss.rsaKey.N.Bytes()), "e": b64int(big.NewInt(int64(iss.rsaKey.E)).Bytes())},
			{"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64int(x), "y": b64int(y)},
			{"kty": "oct", "kid": "s1", "k": "c2VjcmV0"},
		}
		if iss.rsaOnly {
			keys = keys[:1]
		}
		body = map[string]any{"keys": keys}
	default:
		return &Response{Status: http.StatusNotFound, Body: []byte("{}")}, nil
	}
	data, _ := json.Marshal(body)
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: data}, nil
}

// token signs claims (defaults filled in) with the method and kid given.
func (iss *testIssuer) token(method jwt.SigningMethod, kid string, change func(jwt.MapClaims)) string {
	claims := jwt.MapClaims{
		"iss": iss.url, "aud": "client-1", "sub": "user-1", "nonce": "n-1",
		"iat": iss.now.Unix(), "exp": iss.now.Add(time.Hour).Unix(), "email": "a@example.com", "email_verified": true,
	}
	if change != nil {
		change(claims)
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	if kid == "" {
		delete(tok.Header, "kid")
	}
	var key any = iss.rsaKey
	switch method.Alg() {
	case "ES256":
		key = iss.ecKey
	case "HS256":
		key = []byte("c2VjcmV0")
	case "none":
		key = jwt.UnsafeAllowNoneSignatureType
	}
	s, err := tok.SignedString(key)
	if err != nil {
		iss.t.Fatal(err)
	}
	return s
}

func (iss *testIssuer) client() *Client {
	p := Provider{Kind: KindOIDC, Name: "acme", ClientID: "client-1", ClientSecret: "s", Issuer: iss.url, Scopes: []string{"openid"}}
	return NewClient(p, iss, func() time.Time { return iss.now })
}

func TestCheckIDToken(t *testing.T) {
	iss := newTestIssuer(t)
	for _, tc := range []struct {
		name    string
		token   string
		wantErr string // substring of the error; "" for a valid token
	}{
		{name: "RS256", token: iss.token(jwt.SigningMethodRS256, "r1", nil)},
		{name: "ES256", token: iss.token(jwt.SigningMethodES256, "e1", nil)},
		{name: "email_verified as a string", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["email_verified"] = "true" })},
		{name: "several audiences with azp", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["aud"], c["azp"] = []string{"client-1", "x"}, "client-1" })},
		{name: "alg none", token: iss.token(jwt.SigningMethodNone, "r1", nil), wantErr: "signature"},
		{name: "HS256 with a shared key", token: iss.token(jwt.SigningMethodHS256, "s1", nil), wantErr: "signature"},
		{name: "RSA key named for an EC signature", token: iss.token(jwt.SigningMethodES256, "r1", nil), wantErr: "signature"},
		{name: "unknown kid", token: iss.token(jwt.SigningMethodRS256, "r9", nil), wantErr: "signature"},
		{name: "another issuer", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" }), wantErr: "iss"},
		{name: "another audience", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["aud"] = "client-2" }), wantErr: "aud"},
		{name: "several audiences, azp another's", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["aud"], c["azp"] = []string{"client-1", "x"}, "x" }), wantErr: "azp"},
		{name: "expired", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["exp"] = iss.now.Add(-2 * time.Minute).Unix() }), wantErr: "expired"},
		{name: "no exp", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { delete(c, "exp") }), wantErr: "missing"},
		{name: "issued in the future", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["iat"] = iss.now.Add(5 * time.Minute).Unix() }), wantErr: "future"},
		{name: "issued long ago", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["iat"] = iss.now.Add(-time.Hour).Unix() }), wantErr: "long ago"},
		{name: "another nonce", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { c["nonce"] = "n-2" }), wantErr: "nonce"},
		{name: "no nonce", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { delete(c, "nonce") }), wantErr: "nonce"},
		{name: "no subject", token: iss.token(jwt.SigningMethodRS256, "r1", func(c jwt.MapClaims) { delete(c, "sub") }), wantErr: "sub"},
		{name: "tampered", token: iss.token(jwt.SigningMethodRS256, "r1", nil) + "x", wantErr: "signature"},
		{name: "garbage", token: "a.b.c", wantErr: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := iss.client()
			ep, err := c.discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.checkIDToken(context.Background(), ep, tc.token, "n-1")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr == "":
				if id.Subject != "user-1" || id.Email != "a@example.com" || !id.EmailVerified {
					t.Fatalf("identity %+v", id)
				}
			case err == nil:
				t.Fatalf("accepted, want an error with %q", tc.wantErr)
			case !errors.Is(err, ErrIDToken) || !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q, want ErrIDToken with %q", err, tc.wantErr)
			}
		})
	}
}

// TestNoKid: a token without a kid is checked with the provider's key
// when it publishes one, and refused when it publishes several.
func TestNoKid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rsaOnly bool
		method  jwt.SigningMethod
		wantErr string
	}{
		{name: "one key", rsaOnly: true, method: jwt.SigningMethodRS256},
		{name: "one key of another type", rsaOnly: true, method: jwt.SigningMethodES256, wantErr: "signature"},
		{name: "several keys", method: jwt.SigningMethodRS256, wantErr: "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := newTestIssuer(t)
			iss.rsaOnly = tc.rsaOnly
			c := iss.client()
			ep, err := c.discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.checkIDToken(context.Background(), ep, iss.token(tc.method, "", nil), "n-1")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !errors.Is(err, ErrIDToken) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want ErrIDToken with %q", err, tc.wantErr)
			}
		})
	}
}

// TestUnknownKidRereadsKeysSparingly checks that tokens naming unknown
// kids make Latch read the provider's keys again at most once per
// keysRefetchGap.
func TestUnknownKidRereadsKeysSparingly(t *testing.T) {
	iss := newTestIssuer(t)
	c := iss.client()
	ep, err := c.discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.checkIDToken(context.Background(), ep, iss.token(jwt.SigningMethodRS256, "r1", nil), "n-1"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, _ = c.checkIDToken(context.Background(), ep, iss.token(jwt.SigningMethodRS256, "r9", nil), "n-1")
	}
	if iss.keyReads != 1 {
		t.Fatalf("keys read %d times, want 1", iss.keyReads)
	}
	iss.now = iss.now.Add(keysRefetchGap)
	_, _ = c.checkIDToken(context.Background(), ep, iss.token(jwt.SigningMethodRS256, "r9", nil), "n-1")
	if iss.keyReads != 2 {
		t.Fatalf("keys read %d times after the gap, want 2", iss.keyReads)
	}
}

// TestDiscoveryStaysOnConfiguredHosts checks that a discovery document
// cannot send Latch to a host the configuration does not name.
func TestDiscoveryStaysOnConfiguredHosts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(d map[string]any)
		wantErr string
	}{
		{name: "token endpoint elsewhere", change: func(d map[string]any) { d["token_endpoint"] = "https://169.254.169.254/latest" }, wantErr: "off the issuer's host"},
		{name: "keys over http", change: func(d map[string]any) { d["jwks_uri"] = "http://idp.example.com/keys" }, wantErr: "off the issuer's host"},
		{name: "another issuer", change: func(d map[string]any) { d["issuer"] = "https://evil.example.com" }, wantErr: "names issuer"},
		{name: "no token endpoint", change: func(d map[string]any) { delete(d, "token_endpoint") }, wantErr: "no token_endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := newTestIssuer(t)
			tc.change(iss.discovery)
			_, err := iss.client().discover(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
	iss := newTestIssuer(t)
	if c := iss.client(); c.allows("https://169.254.169.254/") || c.allows("http://idp.example.com/x") || !c.allows("https://idp.example.com/x") {
		t.Error("allows does not keep to the issuer's host over https")
	}
}
