package engine_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// BenchmarkSessionsAuthenticate measures the engine's own cost for the hot
// call, in process (no HTTP), on SQLite: one session lookup and a fresh JWT.
func BenchmarkSessionsAuthenticate(b *testing.B) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	e, err := engine.New(engine.Config{ProjectID: "project-test-bench", Secret: "secret", DB: openDB(b), Signer: testSigner(b), Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	call := func(path, body string) map[string]any {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.SetBasicAuth("project-test-bench", "secret")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return out
	}
	user := call("/v1/users", `{"email":"bench@example.com"}`)["user_id"].(string)
	token := call("/v1/magic_links", `{"user_id":"`+user+`"}`)["token"].(string)
	login := call("/v1/magic_links/authenticate", `{"token":"`+token+`","session_duration_minutes":60,"session_custom_claims":{"role":"admin"}}`)
	body := `{"session_token":"` + login["session_token"].(string) + `"}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/sessions/authenticate", strings.NewReader(body))
		req.SetBasicAuth("project-test-bench", "secret")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
