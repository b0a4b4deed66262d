package engine_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// FuzzAPI sends arbitrary bodies to every endpoint: whatever arrives, the
// answer is a Stytch-shaped JSON body and never a 500.
func FuzzAPI(f *testing.F) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	e, err := engine.New(engine.Config{
		ProjectID: "project-test-fuzz", Secret: "secret", DB: openDB(f),
		Signer: testSigner(f), Now: clk.Now,
	})
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/v1/users", "/v1/magic_links", "/v1/magic_links/authenticate",
		"/v1/sessions/authenticate", "/v1/sessions/revoke", "/v1/passwords/strength_check",
		"/v1/passwords/authenticate"}
	for _, seed := range []string{`{}`, `{"email":"a@example.com"}`, `{"token":"x","session_duration_minutes":60}`,
		`{"session_jwt":"a.b.c"}`, `{"session_token":"` + strings.Repeat("A", 44) + `"}`, `{"session_custom_claims":{"a":null}}`,
		`{"user_id":"user-test-00000000-0000-4000-8000-000000000000"}`, `{"session_duration_minutes":1e400}`, "\x00", `{"password":"x"}`} {
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
		if rec.Code >= 400 && out["error_type"] == nil {
			t.Fatalf("%s %q: error without error_type: %s", path, body, rec.Body)
		}
	})
}
