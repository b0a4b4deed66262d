//go:build !js

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLoginPageOnWorkerd: the Worker serves the login page beside the API
// when LATCH_LOGIN_URL is set, with its security headers and cookies
// passed through the glue whole, and counts posts in the LOGIN_LIMIT Rate
// Limiting binding, which refuses a client past its limit (here 5 a
// minute, below the page's own count of 30 per isolate), however it varies
// the forwarding headers.
func TestLoginPageOnWorkerd(t *testing.T) {
	t.Parallel()
	RequireWrangler(t)
	port, release, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release) // after the Worker's Close, registered later
	const limit = 5
	w := Start(t, Options{Port: port, LoginLimit: limit, MoreVars: map[string]string{
		"LATCH_LOGIN_URL":         fmt.Sprintf("http://127.0.0.1:%d/login", port),
		"LATCH_LOGIN_RETURN_URLS": "http://127.0.0.1:3000/",
		"LATCH_PROJECT_NAME":      "Acme",
	}})
	res, err := http.Get(w.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>Sign in · Acme</title>") {
		t.Fatalf("GET /login: %d %s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:3000;") {
		t.Errorf("CSP %q", csp)
	}
	if len(res.Cookies()) != 1 || res.Cookies()[0].Name != "latch_csrf" || !res.Cookies()[0].HttpOnly {
		t.Errorf("cookies %v, want the CSRF cookie", res.Header["Set-Cookie"])
	}
	// The API still answers beside the page.
	if status, _ := newAPI(t, w.Target).call(http.MethodGet, "/v1/sessions/jwks/"+w.ProjectID, nil, false); status != http.StatusOK {
		t.Errorf("JWKS beside the page: %d", status)
	}

	// Each post names another client in the headers a client or a proxy
	// may send; the page reads none of them (only CF-Connecting-IP, which
	// on Cloudflare no client can set), so all are one client.
	refusedAt := 0
	for i := 1; i <= limit+3 && refusedAt == 0; i++ {
		req, _ := http.NewRequest(http.MethodPost, w.URL+"/login/password",
			strings.NewReader(url.Values{"email": {"a@example.com"}, "password": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.101.%d", i))
		req.Header.Set("True-Client-IP", fmt.Sprintf("198.51.102.%d", i))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusTooManyRequests:
			refusedAt = i
		case http.StatusForbidden: // no CSRF cookie: counted, refused
		default:
			t.Fatalf("post %d: %d", i, res.StatusCode)
		}
	}
	if refusedAt == 0 || refusedAt > limit+1 {
		t.Errorf("first 429 at post %d, want by post %d (the binding's limit)", refusedAt, limit+1)
	}
}
