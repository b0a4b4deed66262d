package sdk_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/sdk"
)

// FuzzSurface: whatever a page or a stranger sends — any method, path,
// origin, credentials and body — the surface answers JSON with a status
// the SDK can read (never a 5xx), names no origin it was not given in its
// CORS headers, and keeps the project's secret to itself.
func FuzzSurface(f *testing.F) {
	eng := native.Start(f, native.Config{})
	target, _ := url.Parse(eng.URL)
	token := sdk.NewPublicToken(eng.ProjectID)
	h, err := sdk.New(sdk.Config{API: httputil.NewSingleHostReverseProxy(target), ProjectID: eng.ProjectID, Secret: eng.Secret,
		PublicToken: token, Origins: []string{app}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ method, path, origin, pass, body string }{
		{"GET", "/sdk/v1/projects/bootstrap/" + token, app, token, ""},
		{"POST", "/sdk/v1/otps/authenticate", app, token, `{"token":"123456","method_id":"email-test-x","session_duration_minutes":60}`},
		{"POST", "/sdk/v1/sessions/authenticate", app, "not-a-session", `{}`},
		{"PUT", "/sdk/v1/users/me", app, strings.Repeat("a", 44), `{"name":{"first_name":1}}`},
		{"POST", "/sdk/v1/users/search", app, token, `{"email":["x"]}`},
		{"OPTIONS", "/sdk/v1/events", other, "", ""},
		{"POST", "/sdk/v1/passwords/session/reset", "null", token, `[`},
		{"GET", "/sdk/v1/../v1/users", app, token, ""},
		{"POST", "/sdk/v1/totps/recovery_codes", app, token, `{"user_id":"user-test-x"}`},
	} {
		f.Add(seed.method, seed.path, seed.origin, seed.pass, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, origin, pass, body string) {
		if !strings.HasPrefix(path, "/sdk/") {
			return // not the surface's
		}
		req, err := http.NewRequest(method, "http://latch.test"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		if path == "/sdk/clientside-services/index.html" {
			return // a page, not JSON
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.SetBasicAuth(token, pass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, rec.Body)
		}
		if acao := res.Header.Get("Access-Control-Allow-Origin"); acao != "" && acao != app {
			t.Fatalf("%s %s from %q: Access-Control-Allow-Origin %q", method, path, origin, acao)
		}
		if strings.Contains(rec.Body.String(), eng.Secret) {
			t.Fatalf("%s %s: the answer holds the project secret", method, path)
		}
		if res.StatusCode == http.StatusNoContent {
			return
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d, not JSON: %q", method, path, res.StatusCode, rec.Body)
		}
	})
}
