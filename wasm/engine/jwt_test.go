package engine

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// keySigner is a minimal in-package Signer over one RSA key.
type keySigner struct {
	kid string
	key *rsa.PrivateKey
}

func (s keySigner) KeyID() string { return s.kid }

func (s keySigner) Sign(_ context.Context, input []byte) ([]byte, error) {
	return jwt.SigningMethodRS256.Sign(string(input), s.key)
}

func (s keySigner) PublicKeys() []PublicKey {
	return []PublicKey{{KID: s.kid, N: b64.EncodeToString(s.key.N.Bytes()), E: "AQAB"}}
}

func TestReadJWT(t *testing.T) {
	ours, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const project, kid = "project-test-1", "jwk-test-1"
	e := &Engine{cfg: Config{ProjectID: project, Signer: keySigner{kid: kid, key: ours}}}
	now := time.Now()
	s := &session{ID: "session-test-abc", UserID: "user-test-1", StartedAt: now.Unix(), LastAccessedAt: now.Unix(), ExpiresAt: now.Unix() + 3600}
	good, err := e.mintJWT(context.Background(), s, now.Unix())
	if err != nil {
		t.Fatal(err)
	}
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "stytch.com/" + project, "aud": []string{project}, "sub": "user-test-1",
			"exp": now.Add(-time.Hour).Unix(), sessionClaim: map[string]any{"id": "session-test-abc"}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		out, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// signRaw signs a hand-written header and payload with our key, for
	// tokens no JWT library would write.
	signRaw := func(header, payload string) string {
		input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
		sig, err := jwt.SigningMethodRS256.Sign(input, ours)
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + b64.EncodeToString(sig)
	}
	const okHeader = `{"alg":"RS256","kid":"` + kid + `","typ":"JWT"}`
	payload := func(session string) string {
		return `{"aud":["` + project + `"],"iss":"stytch.com/` + project + `","sub":"user-test-1","https://stytch.com/session":` + session + `}`
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&ours.PublicKey)
	parts := strings.Split(good, ".")
	for _, tc := range []struct {
		name    string
		tok     string
		wantID  string
		wantErr error
	}{
		{name: "minted", tok: good, wantID: "session-test-abc"},
		{name: "expired but ours", tok: sign(jwt.SigningMethodRS256, ours, kid, claims(nil)), wantID: "session-test-abc"},
		{name: "hand-written", tok: signRaw(okHeader, payload(`{"id":"session-test-abc"}`)), wantID: "session-test-abc"},
		{name: "audience as string", tok: sign(jwt.SigningMethodRS256, ours, kid, claims(func(c jwt.MapClaims) { c["aud"] = project })), wantErr: errInvalidSessionJWT},
		{name: "session claim twice", tok: signRaw(okHeader, payload(`{"id":"session-test-abc"},"https://stytch.com/session":{"id":"session-test-other"}`)), wantErr: errInvalidSessionJWT},
		{name: "session id twice", tok: signRaw(okHeader, payload(`{"id":"session-test-abc","id":"session-test-other"}`)), wantErr: errInvalidSessionJWT},
		{name: "session claim in capitals only", tok: signRaw(okHeader, strings.Replace(payload(`{"id":"session-test-abc"}`), "https://stytch.com/session", "HTTPS://STYTCH.COM/SESSION", 1)), wantErr: errInvalidSessionJWT},
		{name: "session claim with long s", tok: signRaw(okHeader, strings.Replace(payload(`{"id":"session-test-abc"}`), "https://stytch.com/session", "https://stytch.com/ſession", 1)), wantErr: errInvalidSessionJWT},
		{name: "sub twice", tok: signRaw(okHeader, payload(`{"id":"session-test-abc"},"sub":"user-test-2"`)), wantErr: errInvalidSessionJWT},
		{name: "no sub", tok: sign(jwt.SigningMethodRS256, ours, kid, claims(func(c jwt.MapClaims) { delete(c, "sub") })), wantErr: errInvalidSessionJWT},
		{name: "header in capitals", tok: signRaw(`{"ALG":"RS256","KID":"`+kid+`","TYP":"JWT"}`, payload(`{"id":"session-test-abc"}`)), wantErr: errInvalidSessionJWT},
		{name: "header kid twice", tok: signRaw(`{"alg":"RS256","kid":"jwk-test-2","kid":"`+kid+`","typ":"JWT"}`, payload(`{"id":"session-test-abc"}`)), wantErr: errInvalidSessionJWT},
		{name: "header without typ", tok: signRaw(`{"alg":"RS256","kid":"`+kid+`"}`, payload(`{"id":"session-test-abc"}`)), wantErr: errInvalidSessionJWT},
		{name: "header typ in lower case", tok: signRaw(`{"alg":"RS256","kid":"`+kid+`","typ":"jwt"}`, payload(`{"id":"session-test-abc"}`)), wantErr: errInvalidSessionJWT},
		{name: "header with crit", tok: signRaw(`{"alg":"RS256","crit":["exp"],"kid":"`+kid+`","typ":"JWT"}`, payload(`{"id":"session-test-abc"}`)), wantErr: errInvalidSessionJWT},
		{name: "newline in signature", tok: parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], wantErr: errInvalidSessionJWT},
		{name: "carriage return in payload", tok: parts[0] + "." + parts[1][:10] + "\r" + parts[1][10:] + "." + parts[2], wantErr: errInvalidSessionJWT},
		{name: "padded signature", tok: good + "==", wantErr: errInvalidSessionJWT},
		{name: "other key same kid", tok: sign(jwt.SigningMethodRS256, theirs, kid, claims(nil)), wantErr: errSessionNotFound},
		{name: "unknown kid", tok: sign(jwt.SigningMethodRS256, ours, "jwk-test-2", claims(nil)), wantErr: errSessionNotFound},
		{name: "alg none", tok: sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims(nil)), wantErr: errInvalidSessionJWT},
		{name: "alg none with a signature", tok: signRaw(`{"alg":"none","kid":"`+kid+`","typ":"JWT"}`, payload(`{"id":"session-test-abc"}`)), wantErr: errSessionNotFound},
		{name: "hs256 with public key", tok: sign(jwt.SigningMethodHS256, pubDER, kid, claims(nil)), wantErr: errSessionNotFound},
		{name: "ps256", tok: sign(jwt.SigningMethodPS256, ours, kid, claims(nil)), wantErr: errSessionNotFound},
		{name: "wrong issuer", tok: sign(jwt.SigningMethodRS256, ours, kid, claims(func(c jwt.MapClaims) { c["iss"] = "stytch.com/other" })), wantErr: errSessionNotFound},
		{name: "wrong audience", tok: sign(jwt.SigningMethodRS256, ours, kid, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other"} })), wantErr: errSessionNotFound},
		{name: "no session claim", tok: sign(jwt.SigningMethodRS256, ours, kid, claims(func(c jwt.MapClaims) { delete(c, sessionClaim) })), wantErr: errInvalidSessionJWT},
		{name: "tampered signature", tok: parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), wantErr: errSessionNotFound},
		{name: "two parts", tok: parts[0] + "." + parts[1], wantErr: errInvalidSessionJWT},
		{name: "not base64", tok: "*." + parts[1] + "." + parts[2], wantErr: errInvalidSessionJWT},
		{name: "header not json", tok: b64.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], wantErr: errInvalidSessionJWT},
		{name: "huge", tok: strings.Repeat("a", 20000) + ".b.c", wantErr: errInvalidSessionJWT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := e.readJWT(tc.tok)
			if !errors.Is(err, tc.wantErr) || ref.sessionID != tc.wantID {
				t.Fatalf("got %q, %v; want %q, %v", ref.sessionID, err, tc.wantID, tc.wantErr)
			}
			if err == nil && ref.userID != "user-test-1" {
				t.Fatalf("user %q, want user-test-1", ref.userID)
			}
		})
	}
}

func TestMintJWTNeverOutlivesSession(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{cfg: Config{ProjectID: "project-test-1", Signer: keySigner{kid: "jwk-test-1", key: key}}}
	const now = 1_800_000_000
	for _, tc := range []struct {
		name    string
		expires int64
		wantExp int64
	}{
		{name: "long session", expires: now + 3600, wantExp: now + 300},
		{name: "ends in a minute", expires: now + 60, wantExp: now + 60},
		{name: "ends exactly at jwt lifetime", expires: now + 300, wantExp: now + 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{ID: "session-test-1", UserID: "user-test-1", StartedAt: now, LastAccessedAt: now, ExpiresAt: tc.expires}
			tok, err := e.mintJWT(context.Background(), s, now)
			if err != nil {
				t.Fatal(err)
			}
			c := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
				t.Fatal(err)
			}
			if exp, _ := c["exp"].(float64); int64(exp) != tc.wantExp {
				t.Fatalf("exp %v, want %d", c["exp"], tc.wantExp)
			}
		})
	}
}

// TestMintJWTPayload checks the payload mintJWT builds by hand: custom
// claims sit beside the fixed claims, keys JSON-encoded, values compacted,
// and the header follows the signer's current key.
func TestMintJWTPayload(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer := &keySigner{kid: "kid-1", key: key}
	e := &Engine{cfg: Config{ProjectID: "project-test-1", Signer: signer}}
	tests := []struct {
		name   string
		claims claims
		kid    string
		want   map[string]string // top-level claim → its JSON
	}{
		{name: "no custom claims", kid: "kid-1", want: map[string]string{"sub": `"user-test-1"`}},
		{name: "empty custom claims", claims: claims{}, kid: "kid-1", want: map[string]string{"aud": `["project-test-1"]`}},
		{
			name: "custom claims spliced", kid: "kid-2",
			claims: claims{"role": json.RawMessage(` [ "admin", 1 ] `), `we"ird<key>`: json.RawMessage(`{"a" : null}`)},
			want:   map[string]string{"role": `["admin",1]`, `we"ird<key>`: `{"a":null}`, "iss": `"stytch.com/project-test-1"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer.kid = tt.kid
			s := &session{ID: "session-test-abc", UserID: "user-test-1", StartedAt: 100, LastAccessedAt: 100, ExpiresAt: 4000, CustomClaims: tt.claims}
			tok, err := e.mintJWT(context.Background(), s, 200)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok, ".")
			rawHeader, _ := b64.DecodeString(parts[0])
			if want := `{"alg":"RS256","kid":"` + tt.kid + `","typ":"JWT"}`; string(rawHeader) != want {
				t.Errorf("header %s, want %s", rawHeader, want)
			}
			raw, _ := b64.DecodeString(parts[1])
			var got map[string]json.RawMessage
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("payload %s: %v", raw, err)
			}
			if len(got) != 7+len(tt.claims) {
				t.Errorf("payload has %d claims, want %d: %s", len(got), 7+len(tt.claims), raw)
			}
			for k, v := range tt.want {
				if string(got[k]) != v {
					t.Errorf("claim %q = %s, want %s", k, got[k], v)
				}
			}
			if _, err := e.readJWT(tok); err != nil {
				t.Errorf("own JWT refused: %v", err)
			}
		})
	}
}

// FuzzReadJWT feeds arbitrary strings to the JWT check: it never panics,
// and only the token we minted yields a session id.
func FuzzReadJWT(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	e := &Engine{cfg: Config{ProjectID: "project-test-1", Signer: keySigner{kid: "jwk-test-1", key: key}}}
	now := time.Now().Unix()
	good, err := e.mintJWT(context.Background(), &session{ID: "session-test-1", UserID: "user-test-1", StartedAt: now, LastAccessedAt: now, ExpiresAt: now + 600}, now)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", ".", "..", "a.b.c", good + "x", strings.Replace(good, ".", "..", 1),
		`eyJhbGciOiJub25lIn0.e30.`, strings.Repeat("A", 100) + "." + strings.Repeat("B", 100) + "."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		ref, err := e.readJWT(tok)
		if err == nil && (tok != good || ref.sessionID != "session-test-1" || ref.userID != "user-test-1") {
			t.Fatalf("accepted %q as %+v", tok, ref)
		}
		if err != nil && ref != (jwtRef{}) {
			t.Fatalf("error %v with %+v", err, ref)
		}
	})
}

// TestLargestJWT mints the largest session JWT the request bounds allow —
// custom claims at their limit, attributes at theirs, all of their worst
// characters for escaping, eight factors with the longest email, then as
// many passkeys as a session can be stepped up with, each with the
// longest user agent of control characters — and checks that it stays
// within maxJWTBytes and reads back.
func TestLargestJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{cfg: Config{ProjectID: "project-live-" + strings.Repeat("f", 36), Signer: keySigner{kid: "jwk-live-" + strings.Repeat("f", 36), key: key}}}
	var cc claimUpdate
	// 4,096 bytes once serialised: one claim whose value is quotes, each
	// escaped to two bytes.
	value := strings.Repeat(`\"`, (maxCustomClaimsBytes-10)/2)
	if err := json.Unmarshal([]byte(`{"k":"`+value+`"}`), &cc); err != nil {
		t.Fatal(err)
	}
	merged, err := claims{}.merge(cc)
	if err != nil {
		t.Fatalf("claims at the limit refused: %v", err)
	}
	if b, _ := json.Marshal(merged); len(b) < maxCustomClaimsBytes-2 {
		t.Fatalf("claims are %d bytes, want about %d", len(b), maxCustomClaimsBytes)
	}
	email := strings.Repeat("a", 242) + "@example.com"
	id := func(kind string) string { return kind + "-live-" + strings.Repeat("f", 36) }
	var factors []factor
	for range 8 {
		factors = append(factors, factor{Type: "magic_link", DeliveryMethod: "email", LastAuthenticatedAt: stamp(1 << 33),
			EmailFactor: &emailFactor{EmailID: id("email"), EmailAddress: email}})
	}
	s := &session{
		ID: id("session"), UserID: id("user"), StartedAt: 1 << 33, LastAccessedAt: 1 << 33, ExpiresAt: 1<<33 + 3600,
		Attributes:   attributes{UserAgent: strings.Repeat(`"`, maxUserAgentBytes), IPAddress: strings.Repeat(`\`, maxIPAddressBytes)},
		Factors:      factors,
		CustomClaims: merged,
	}
	if err := s.Attributes.validate(); err != nil {
		t.Fatalf("largest attributes refused: %v", err)
	}
	var last factor
	for i := range 12 {
		last = factor{Type: "webauthn", DeliveryMethod: "webauthn_registration", LastAuthenticatedAt: stamp(1<<33 + int64(i)),
			WebAuthn: &webauthnFactor{ID: fmt.Sprintf("webauthn-registration-live-%036d", i), Domain: strings.Repeat("d", 253),
				UserAgent: clipTo(strings.Repeat("\x01", 2*maxUserAgentLen), maxUserAgentLen)}}
		s.addFactor(last)
	}
	if got := s.Factors[len(s.Factors)-1]; got.WebAuthn == nil || got.WebAuthn.ID != last.WebAuthn.ID {
		t.Fatalf("the factor just authenticated was dropped: last is %+v", got)
	}
	tok, err := e.mintJWT(context.Background(), s, 1<<33)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("largest JWT: %d bytes of %d", len(tok), maxJWTBytes)
	if len(tok) > maxJWTBytes {
		t.Fatalf("JWT of %d bytes exceeds %d", len(tok), maxJWTBytes)
	}
	if ref, err := e.readJWT(tok); err != nil || ref.sessionID != s.ID {
		t.Fatalf("largest JWT read back as %+v, %v", ref, err)
	}
}
