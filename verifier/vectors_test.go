package verifier

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json (and create testdata/vectors-key.pem if missing)")

const (
	vectorsFile = "testdata/vectors.json"
	vectorsKey  = "testdata/vectors-key.pem"
	vectorsKID  = "jwk-test-0d9a1c7e-2f4b-4e38-9a51-6c0e1f7b2d43"
)

// vectorTime is the clock every vector is checked at.
var vectorTime = time.Unix(1745307712, 0).UTC()

type vector struct {
	Name  string `json:"name"`
	Token string `json:"token"`
	Want  string `json:"want"` // the sentinel's name; "" for a valid token
}

var sentinels = map[string]error{
	"ErrMalformed":            ErrMalformed,
	"ErrUnsupportedAlgorithm": ErrUnsupportedAlgorithm,
	"ErrUnknownKey":           ErrUnknownKey,
	"ErrInvalidSignature":     ErrInvalidSignature,
	"ErrInvalidIssuer":        ErrInvalidIssuer,
	"ErrInvalidAudience":      ErrInvalidAudience,
	"ErrExpired":              ErrExpired,
	"ErrNotYetValid":          ErrNotYetValid,
}

// TestVectors checks the tokens in testdata/vectors.json, signed by the
// key in testdata/vectors-key.pem. Run with -update to regenerate them
// from the table in makeVectors.
func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	key := loadVectorKey(t)
	var vs []vector
	data, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, testKey{KID: vectorsKID, Private: key})
	clk := &clock{t: vectorTime}
	v := newTestVerifier(t, srv, clk, nil)
	for _, vec := range vs {
		t.Run(vec.Name, func(t *testing.T) {
			want := sentinels[vec.Want]
			if vec.Want != "" && want == nil {
				t.Fatalf("unknown sentinel %q", vec.Want)
			}
			for range 2 { // cold, then through the verified-token cache
				s, err := v.Verify(t.Context(), vec.Token)
				if want == nil {
					if err != nil || s == nil || s.SessionID == "" {
						t.Fatalf("Verify = %v, %v; want a session", s, err)
					}
					continue
				}
				if !errors.Is(err, want) || s != nil {
					t.Fatalf("Verify = %v, %v; want %s", s, err, vec.Want)
				}
			}
		})
	}
}

func loadVectorKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(vectorsKey)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", vectorsKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func writeVectors(t *testing.T) {
	if _, err := os.Stat(vectorsKey); errors.Is(err, os.ErrNotExist) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vs := makeVectors(t, loadVectorKey(t))
	out, err := json.MarshalIndent(vs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(vectorsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeVectors builds every vector. RSA PKCS #1 v1.5 signatures are
// deterministic, so the same key gives the same file.
func makeVectors(t *testing.T, key *rsa.PrivateKey) []vector {
	enc := base64.RawURLEncoding.EncodeToString
	header := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT", "kid": vectorsKID} }
	claims := func(edit func(c map[string]any)) map[string]any {
		c := map[string]any(claimsAt(vectorTime))
		if edit != nil {
			edit(c)
		}
		return c
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sign := func(alg string, h any, c any) string {
		in := enc([]byte(js(h))) + "." + enc([]byte(js(c)))
		var sig []byte
		var err error
		switch alg {
		case "RS256":
			sum := sha256.Sum256([]byte(in))
			sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
		case "RS512":
			sum := sha512.Sum512([]byte(in))
			sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA512, sum[:])
		case "HS256": // keyed with the PEM public key, the classic confusion
			der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
			mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			mac.Write([]byte(in))
			sig = mac.Sum(nil)
		case "none":
		}
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + enc(sig)
	}
	rs := func(h, c any) string { return sign("RS256", h, c) }
	valid := rs(header("RS256"), claims(nil))
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 'A' ^ 'B'
		return string(b)
	}
	dotAt := func(s string, n int) int {
		for i := range len(s) {
			if s[i] == '.' {
				if n == 0 {
					return i
				}
				n--
			}
		}
		return -1
	}
	withHeader := func(edit func(h map[string]any)) map[string]any {
		h := header("RS256")
		edit(h)
		return h
	}
	rawSign := func(h, payload string) string {
		in := enc([]byte(h)) + "." + enc([]byte(payload))
		sum := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + enc(sig)
	}
	// with appends members to a JSON object's text, to repeat a name that
	// a Go map cannot hold twice.
	with := func(obj string, members ...string) string {
		for _, m := range members {
			obj = obj[:len(obj)-1] + "," + m + "}"
		}
		return obj
	}
	hdr := js(header("RS256"))
	// session returns the session claim's JSON text, edited.
	session := func(edit func(s map[string]any)) map[string]any {
		s := claims(nil)["https://stytch.com/session"].(map[string]any)
		edit(s)
		return s
	}
	// inSession replaces the session claim with raw JSON text.
	inSession := func(raw string) string {
		c := claims(nil)
		delete(c, "https://stytch.com/session")
		return with(js(c), `"https://stytch.com/session":`+raw)
	}
	sess := js(claims(nil)["https://stytch.com/session"])
	factor := `{"type":"magic_link","delivery_method":"email","last_authenticated_at":"2025-04-22T07:41:52Z","email_factor":{"email_id":"email-test-81bf03a8-86e1-4d95-bd44-bb3495224953","email_address":"sandbox@stytch.com"}}`
	return []vector{
		{Name: "valid", Token: valid},
		// Names are exact and unique (RFC 7515 §4, RFC 7519 §4: a
		// repeated name is refused rather than resolved).
		{Name: "duplicate sub", Token: rawSign(hdr, with(js(claims(nil)), `"sub":"user-test-00000000-0000-4000-8000-000000000000"`)), Want: "ErrMalformed"},
		{Name: "duplicate session claim naming another session", Token: rawSign(hdr, with(js(claims(nil)),
			`"https://stytch.com/session":`+js(session(func(s map[string]any) { s["id"] = "session-test-00000000-0000-4000-8000-000000000000" })))), Want: "ErrMalformed"},
		{Name: "duplicate id in the session claim", Token: rawSign(hdr, inSession(with(sess, `"id":"session-test-00000000-0000-4000-8000-000000000000"`))), Want: "ErrMalformed"},
		{Name: "duplicate member in attributes", Token: rawSign(hdr, inSession(with(js(session(func(s map[string]any) { delete(s, "attributes") })),
			`"attributes":{"ip_address":"203.0.113.7","user_agent":"Mozilla/5.0","ip_address":"198.51.100.1"}`))), Want: "ErrMalformed"},
		{Name: "duplicate member in a factor", Token: rawSign(hdr, inSession(with(js(session(func(s map[string]any) { delete(s, "authentication_factors") })),
			`"authentication_factors":[`+with(factor, `"type":"password"`)+`]`))), Want: "ErrMalformed"},
		{Name: "duplicate member in an email factor", Token: rawSign(hdr, inSession(with(js(session(func(s map[string]any) { delete(s, "authentication_factors") })),
			`"authentication_factors":[`+factor[:len(factor)-2]+`,"email_address":"attacker@example.com"}}]`))), Want: "ErrMalformed"},
		{Name: "duplicate member skipped in the session claim", Token: rawSign(hdr, inSession(with(sess, `"x":1`, `"x":2`))), Want: "ErrMalformed"},
		{Name: "duplicate custom claim", Token: rawSign(hdr, with(js(claims(nil)), `"plan":"free"`, `"plan":"pro"`)), Want: "ErrMalformed"},
		{Name: "duplicate member inside a custom claim", Token: rawSign(hdr, with(js(claims(nil)), `"org":{"role":"member","tier":[{"a":1,"a":2}],"role":"admin"}`)), Want: "ErrMalformed"},
		{Name: "duplicate member under https://stytch.com/", Token: rawSign(hdr, with(js(claims(nil)), `"https://stytch.com/x":{"a":1,"a":2}`)), Want: "ErrMalformed"},
		{Name: "duplicate name spelled with an escape", Token: rawSign(hdr, with(js(claims(nil)), `"\u0073ub":"user-test-00000000-0000-4000-8000-000000000000"`)), Want: "ErrMalformed"},
		{Name: "duplicate kid, the known one last", Token: rawSign(`{"alg":"RS256","kid":"jwk-test-unknown","kid":"`+vectorsKID+`","typ":"JWT"}`, js(claims(nil))), Want: "ErrMalformed"},
		{Name: "duplicate kid, the known one first", Token: rawSign(`{"alg":"RS256","kid":"`+vectorsKID+`","kid":"jwk-test-unknown","typ":"JWT"}`, js(claims(nil))), Want: "ErrMalformed"},
		{Name: "duplicate alg", Token: rawSign(`{"alg":"HS256","alg":"RS256","kid":"`+vectorsKID+`","typ":"JWT"}`, js(claims(nil))), Want: "ErrMalformed"},
		{Name: "duplicate typ", Token: rawSign(`{"alg":"RS256","kid":"`+vectorsKID+`","typ":"at+jwt","typ":"JWT"}`, js(claims(nil))), Want: "ErrMalformed"},
		{Name: "typ jwt in lower case", Token: rs(withHeader(func(h map[string]any) { h["typ"] = "jwt" }), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "upper-case ALG is not alg", Token: rawSign(`{"ALG":"RS256","kid":"`+vectorsKID+`","typ":"JWT"}`, js(claims(nil))), Want: "ErrUnsupportedAlgorithm"},
		{Name: "upper-case KID is not kid", Token: rawSign(`{"alg":"RS256","KID":"`+vectorsKID+`","typ":"JWT"}`, js(claims(nil))), Want: "ErrMalformed"},
		{Name: "upper-case KID beside kid is not read", Token: rawSign(`{"alg":"RS256","kid":"`+vectorsKID+`","KID":"jwk-test-unknown","typ":"JWT"}`, js(claims(nil)))},
		// What the engine mints, the verifier reads: custom claims nested
		// 16 deep (the engine's limit); numbers finite as float64.
		{Name: "custom claim nested 16 deep", Token: rawSign(hdr, with(js(claims(nil)), `"deep":`+nested(16)))},
		{Name: "custom claim nested 40 deep", Token: rawSign(hdr, with(js(claims(nil)), `"deep":`+nested(40))), Want: "ErrMalformed"},
		{Name: "custom claim 1e400", Token: rawSign(hdr, with(js(claims(nil)), `"n":1e400`)), Want: "ErrMalformed"},
		{Name: "custom claim -1e400 in an array", Token: rawSign(hdr, with(js(claims(nil)), `"n":[1,{"x":-1e400}]`)), Want: "ErrMalformed"},
		{Name: "custom claim integer beyond float64", Token: rawSign(hdr, with(js(claims(nil)), `"n":1`+strings.Repeat("0", 400))), Want: "ErrMalformed"},
		{Name: "1e400 under https://stytch.com/", Token: rawSign(hdr, with(js(claims(nil)), `"https://stytch.com/x":1e400`)), Want: "ErrMalformed"},
		{Name: "1e400 skipped in the session claim", Token: rawSign(hdr, inSession(with(sess, `"x":1e400`))), Want: "ErrMalformed"},
		{Name: "custom claim 1e-400 reads as 0", Token: rawSign(hdr, with(js(claims(nil)), `"n":1e-400`))},
		{Name: "upper-case SUB is a custom claim, not sub", Token: rawSign(hdr, with(js(claims(nil)), `"SUB":"user-test-00000000-0000-4000-8000-000000000000"`))},
		{Name: "valid aud as string", Token: rs(header("RS256"), claims(func(c map[string]any) { c["aud"] = testProject }))},
		{Name: "valid with custom claims", Token: rs(header("RS256"), claims(func(c map[string]any) { c["plan"] = "pro"; c["n"] = 3 }))},
		{Name: "expired", Token: rs(header("RS256"), claims(func(c map[string]any) { c["exp"] = vectorTime.Unix() - 1 })), Want: "ErrExpired"},
		{Name: "not yet valid", Token: rs(header("RS256"), claims(func(c map[string]any) { c["nbf"] = vectorTime.Unix() + 60 })), Want: "ErrNotYetValid"},
		{Name: "issued in the future", Token: rs(header("RS256"), claims(func(c map[string]any) { c["iat"] = vectorTime.Unix() + 60 })), Want: "ErrNotYetValid"},
		{Name: "wrong aud", Token: rs(header("RS256"), claims(func(c map[string]any) { c["aud"] = []string{"project-test-other"} })), Want: "ErrInvalidAudience"},
		{Name: "wrong iss", Token: rs(header("RS256"), claims(func(c map[string]any) { c["iss"] = "stytch.com/project-test-other" })), Want: "ErrInvalidIssuer"},
		{Name: "missing exp", Token: rs(header("RS256"), claims(func(c map[string]any) { delete(c, "exp") })), Want: "ErrMalformed"},
		{Name: "missing session claim", Token: rs(header("RS256"), claims(func(c map[string]any) { delete(c, "https://stytch.com/session") })), Want: "ErrMalformed"},
		{Name: "payload not JSON", Token: rawSign(js(header("RS256")), "not json"), Want: "ErrMalformed"},
		{Name: "payload with trailing data", Token: rawSign(js(header("RS256")), js(claims(nil))+"{}"), Want: "ErrMalformed"},
		{Name: "tampered payload", Token: flip(valid, dotAt(valid, 0)+20), Want: "ErrInvalidSignature"},
		{Name: "tampered signature", Token: flip(valid, dotAt(valid, 1)+20), Want: "ErrInvalidSignature"},
		{Name: "truncated signature", Token: valid[:dotAt(valid, 1)+1+340], Want: "ErrInvalidSignature"},
		{Name: "empty signature", Token: valid[:dotAt(valid, 1)+1], Want: "ErrInvalidSignature"},
		{Name: "padded signature", Token: valid + "==", Want: "ErrMalformed"},
		{Name: "alg none", Token: sign("none", header("none"), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "alg None", Token: sign("none", header("None"), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "HS256 signed with the public key", Token: sign("HS256", header("HS256"), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "RS512", Token: sign("RS512", header("RS512"), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "typ not JWT", Token: rs(withHeader(func(h map[string]any) { h["typ"] = "at+jwt" }), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "no typ", Token: rs(withHeader(func(h map[string]any) { delete(h, "typ") }), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "crit header", Token: rs(withHeader(func(h map[string]any) { h["crit"] = []string{"exp"} }), claims(nil)), Want: "ErrUnsupportedAlgorithm"},
		{Name: "missing kid", Token: rs(withHeader(func(h map[string]any) { delete(h, "kid") }), claims(nil)), Want: "ErrMalformed"},
		{Name: "unknown kid", Token: rs(withHeader(func(h map[string]any) { h["kid"] = "jwk-test-unknown" }), claims(nil)), Want: "ErrUnknownKey"},
		{Name: "header not JSON", Token: rawSign("{alg:RS256}", js(claims(nil))), Want: "ErrMalformed"},
		{Name: "header not base64url", Token: "eyJ!" + valid[dotAt(valid, 0):], Want: "ErrMalformed"},
		{Name: "two segments", Token: valid[:dotAt(valid, 1)], Want: "ErrMalformed"},
		{Name: "four segments", Token: valid + ".e30", Want: "ErrMalformed"},
		{Name: "empty", Token: "", Want: "ErrMalformed"},
	}
}

// nested returns a JSON value nested depth levels deep (the value itself
// is level 1), alternating objects and arrays.
func nested(depth int) string {
	v := `"leaf"`
	for i := 1; i < depth; i++ {
		if i%2 == 0 {
			v = `[` + v + `]`
		} else {
			v = `{"k":` + v + `}`
		}
	}
	return v
}
