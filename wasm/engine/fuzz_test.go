package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// discardMail is a Mailer that delivers nothing and never fails.
type discardMail struct{}

func (discardMail) Send(context.Context, *engine.Message) error { return nil }

// FuzzAPI sends arbitrary bodies to every endpoint: whatever arrives, the
// answer is a Stytch-shaped JSON body and never a 500.
func FuzzAPI(f *testing.F) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	box := testSecretBox(f)
	// Mail is delivered nowhere: the property fuzzed is the API's answer
	// to any body, with every capability configured so that no endpoint
	// answers 503 for want of one.
	e, err := engine.New(engine.Config{
		ProjectID: "project-test-fuzz", Secret: "secret", DB: openDB(f),
		Signer: testSigner(f), Now: clk.Now, SecretBox: box,
		Mailer: discardMail{}, MailFrom: "fuzz@latch.test", RedirectURLs: []string{"http://localhost:3000/"},
		WebAuthnOrigins: []string{"http://localhost:3000"},
	})
	if err != nil {
		f.Fatal(err)
	}
	const tokenPath = "/v1/public/project-test-fuzz/oauth2/token" // no project auth; RFC 6749 errors
	paths := []string{"/v1/users", "/v1/magic_links", "/v1/magic_links/authenticate",
		"/v1/sessions/authenticate", "/v1/sessions/revoke", "/v1/passwords/strength_check",
		"/v1/passwords/authenticate", "/v1/totps/authenticate", "/v1/totps/recover", "/v1/otps/authenticate",
		"/v1/passwords/email/reset", "/v1/passwords", "/v1/magic_links/email/send",
		"/v1/m2m/clients", "/v1/m2m/clients/search", tokenPath,
		"/v1/webauthn/register/start", "/v1/webauthn/register", "/v1/webauthn/authenticate/start", "/v1/webauthn/authenticate"}
	for _, seed := range []string{`{}`, `{"email":"a@example.com"}`, `{"token":"x","session_duration_minutes":60}`,
		`{"session_jwt":"a.b.c"}`, `{"session_token":"` + strings.Repeat("A", 44) + `"}`, `{"session_custom_claims":{"a":null}}`,
		`{"user_id":"user-test-00000000-0000-4000-8000-000000000000"}`, `{"session_duration_minutes":1e400}`, "\x00", `{"password":"x"}`,
		`{"intermediate_session_token":"` + strings.Repeat("B", 43) + `","totp_code":"123456"}`, `{"require_mfa":true,"session_duration_minutes":60}`,
		`{"token":"x","code_verifier":"` + strings.Repeat("v", 43) + `"}`, `{"email":"a+b@example.com","code_challenge":"` + strings.Repeat("c", 43) + `"}`,
		`{"email":"n@example.com","name":{"first_name":"a\r\n"},"trusted_metadata":{"a":1,"a":2}}`,
		`{"client_id":"c_1","client_secret":"` + strings.Repeat("s", 32) + `","scopes":["a","b:c"],"trusted_metadata":{"k":1}}`,
		`{"query":{"operator":"OR","operands":[{"filter_name":"scopes","filter_value":["a"]},{"filter_name":"status","filter_value":"active"}]},"limit":1,"cursor":"eyJjIjoxLCJtIjoiYyJ9"}`,
		`{"grant_type":"client_credentials","client_id":"c_1","client_secret":"` + strings.Repeat("s", 32) + `","scope":"a  b:c"}`,
		"grant_type=client_credentials&client_id=c_1&client_secret=" + strings.Repeat("s", 32) + "&scope=a&scope=b",
		`{"domain":"localhost","user_id":"user-test-00000000-0000-4000-8000-000000000000","return_passkey_credential_options":true}`,
		`{"public_key_credential":"{\"id\":\"AAAA\",\"rawId\":\"AAAA\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiQUFBQSJ9\",\"authenticatorData\":\"AAAA\",\"signature\":\"AAAA\",\"attestationObject\":\"oA\"}}","session_duration_minutes":60}`} {
		for i := range paths {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.SetBasicAuth("project-test-fuzz", "secret")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", path, body, rec.Code, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: body is not JSON: %v", path, body, err)
		}
		if path == tokenPath {
			// The token endpoint answers RFC 6749 errors.
			if rec.Code >= 400 && (out["error"] == nil || out["error_description"] == nil) {
				t.Fatalf("%s %q: error without error and error_description: %s", path, body, rec.Body)
			}
			return
		}
		if rec.Code >= 400 && out["error_type"] == nil {
			t.Fatalf("%s %q: error without error_type: %s", path, body, rec.Body)
		}
	})
}
