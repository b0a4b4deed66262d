package verifier

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// allSentinels are the package's exported errors.
var allSentinels = map[string]error{
	"ErrMalformed": ErrMalformed, "ErrUnsupportedAlgorithm": ErrUnsupportedAlgorithm,
	"ErrUnknownKey": ErrUnknownKey, "ErrKeysUnavailable": ErrKeysUnavailable,
	"ErrInvalidSignature": ErrInvalidSignature, "ErrInvalidIssuer": ErrInvalidIssuer,
	"ErrInvalidAudience": ErrInvalidAudience, "ErrExpired": ErrExpired,
	"ErrNotYetValid": ErrNotYetValid, "ErrTooOld": ErrTooOld,
	"ErrSessionNotFound": ErrSessionNotFound, "ErrRevoked": ErrRevoked,
	"ErrFeedStale": ErrFeedStale, "ErrRemote": ErrRemote,
	"ErrUnavailable": ErrUnavailable, "ErrBusy": ErrBusy,
	"ErrNoSecret": ErrNoSecret, "ErrNoToken": ErrNoToken, "ErrConfig": ErrConfig,
	"ErrNotM2M": ErrNotM2M, "ErrInsufficientScope": ErrInsufficientScope,
}

// golangJWTErrors are golang-jwt v5's exported errors. None of the
// verifier's errors may match one.
var golangJWTErrors = []error{
	jwt.ErrInvalidKey, jwt.ErrInvalidKeyType, jwt.ErrHashUnavailable,
	jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
	jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenInvalidAudience, jwt.ErrTokenExpired,
	jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidSubject,
	jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidId, jwt.ErrTokenInvalidClaims,
	jwt.ErrInvalidType, jwt.ErrSignatureInvalid, jwt.ErrECDSAVerification,
	jwt.ErrEd25519Verification, jwt.ErrKeyMustBePEMEncoded, jwt.ErrNotRSAPublicKey,
}

// matches reports whether an error wrapping sentinel a should match
// sentinel b: itself, and the two documented relations.
func matches(a, b error) bool {
	return a == b || a == ErrRevoked && b == ErrSessionNotFound || a == ErrBusy && b == ErrUnavailable
}

// checkMatches fails t unless err matches exactly the sentinels an error
// wrapping want should, and none of golang-jwt's errors.
func checkMatches(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", want)
	}
	for name, s := range allSentinels {
		if got := errors.Is(err, s); got != matches(want, s) {
			t.Errorf("errors.Is(%q, %s) = %v, want %v", err, name, got, !got)
		}
	}
	for _, j := range golangJWTErrors {
		if errors.Is(err, j) {
			t.Errorf("errors.Is(%q, jwt %q) holds", err, j)
		}
	}
}

func TestSentinelsMatchOnlyThemselves(t *testing.T) {
	for name, s := range allSentinels {
		t.Run(name, func(t *testing.T) {
			checkMatches(t, s, s)
			if !strings.HasPrefix(s.Error(), "verifier: ") {
				t.Errorf("%s = %q, want the package's prefix", name, s)
			}
		})
	}
}

// TestReturnedErrorsMatch: the errors Verify and Authenticate return
// match their sentinel, the sentinels it is documented to match, and
// nothing else, golang-jwt's errors included.
func TestReturnedErrorsMatch(t *testing.T) {
	k := testKeys()[0]
	hs256 := func(t *testing.T, now time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsAt(now))
		tok.Header["kid"] = k.KID
		s, err := tok.SignedString([]byte("a shared secret of 32 bytes or more"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name     string
		token    func(t *testing.T, now time.Time) string
		edit     func(c *Config)
		edge     func(srv *jwksServer, f *fakeSessions)
		close    bool // the Verifier is closed first
		remote   bool // Authenticate rather than Verify
		wantErr  error
		wantText string // part of err's text: the context kept
	}{
		{name: "malformed", token: func(*testing.T, time.Time) string { return "a.b.c" }, wantErr: ErrMalformed},
		{name: "HS256", token: hs256, wantErr: ErrUnsupportedAlgorithm, wantText: `alg "HS256"`},
		{name: "unknown kid", token: func(t *testing.T, now time.Time) string {
			return mint(t, withKID(k, "jwk-test-unknown"), claimsAt(now))
		},
			wantErr: ErrUnknownKey, wantText: "jwk-test-unknown"},
		{name: "forged", token: func(t *testing.T, now time.Time) string { return mint(t, withKID(testKeys()[1], k.KID), claimsAt(now)) },
			wantErr: ErrInvalidSignature},
		{name: "wrong issuer", token: func(t *testing.T, now time.Time) string {
			c := claimsAt(now)
			c["iss"] = "stytch.com/project-test-other"
			return mint(t, k, c)
		}, wantErr: ErrInvalidIssuer},
		{name: "wrong audience", token: func(t *testing.T, now time.Time) string {
			c := claimsAt(now)
			c["aud"] = "project-test-other"
			return mint(t, k, c)
		}, wantErr: ErrInvalidAudience},
		{name: "expired", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now.Add(-time.Hour))) },
			wantErr: ErrExpired},
		{name: "not yet valid", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now.Add(time.Hour))) },
			wantErr: ErrNotYetValid},
		{name: "too old", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now.Add(-2*time.Minute))) },
			edit: func(c *Config) { c.MaxTokenAge = time.Minute }, wantErr: ErrTooOld},
		{name: "keys unavailable", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now)) },
			edge: func(srv *jwksServer, _ *fakeSessions) { srv.setStatus(http.StatusInternalServerError) },
			edit: func(c *Config) { c.KeyWait = 100 * time.Millisecond }, wantErr: ErrKeysUnavailable},
		{name: "feed stale", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now)) },
			edit: func(c *Config) { c.DisableRevocationFeed = false }, close: true, wantErr: ErrFeedStale, wantText: "stopped"},
		{name: "no secret", token: func(*testing.T, time.Time) string { return "opaque-token" }, remote: true,
			edit: func(c *Config) { c.Secret = "" }, wantErr: ErrNoSecret},
		{name: "session not found", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now.Add(-time.Hour))) },
			edge: func(_ *jwksServer, f *fakeSessions) { f.revoked = true }, remote: true, wantErr: ErrSessionNotFound, wantText: "request-id-test-2"},
		{name: "edge refuses the secret", token: func(*testing.T, time.Time) string { return "opaque-token" }, remote: true,
			edit: func(c *Config) { c.Secret = "secret-test-wrong" }, wantErr: ErrRemote, wantText: "unauthorized_credentials"},
		{name: "edge down", token: func(*testing.T, time.Time) string { return "opaque-token" }, remote: true,
			edge: func(srv *jwksServer, _ *fakeSessions) { srv.authenticate = nil; srv.Close() }, wantErr: ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, f := newEdge(t, clk)
			v := newTestVerifier(t, srv, clk, tt.edit)
			if tt.edge != nil {
				tt.edge(srv, f)
			} else if err := v.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			if tt.close {
				if err := v.Refresh(t.Context()); err != nil {
					t.Fatal(err)
				}
				v.Close()
			}
			tok := tt.token(t, clk.Now())
			var err error
			if tt.remote {
				_, _, err = v.Authenticate(context.Background(), tok)
			} else {
				_, err = v.Verify(context.Background(), tok)
			}
			checkMatches(t, err, tt.wantErr)
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantText)
			}
		})
	}
}

// TestOnlyStandardImports: the package's own code imports the standard
// library only, so no other module's types or errors are part of its API
// (golang-jwt is for its tests).
func TestOnlyStandardImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
