package loginpage_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/loginpage"
)

// The page's limits per client, seen from outside: the client is the
// connection's address (Config.ClientIP), never a header it sends.

// postFrom posts form to the page's path in process, from the address
// remote (host:port), with the fixture's cookies and headers added.
func (f *fixture) postFrom(remote, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(form.Encode()))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, c := range f.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// TestLimitFlood: a flood of fresh clients, more than the page keeps
// counts of, neither locks out a client that comes after it nor frees one
// that is over its limit.
func TestLimitFlood(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, func(c *loginpage.Config) { c.Now = func() time.Time { return now } })
	const over, newcomer = "198.51.100.7:4000", "203.0.113.9:4000"
	// No CSRF token: each post is counted, then refused with 403 before it
	// reaches the API.
	for range 30 {
		f.postFrom(over, "/password", url.Values{})
	}
	if s := f.postFrom(over, "/password", url.Values{}).Code; s != http.StatusTooManyRequests {
		t.Fatalf("31st post in a minute: %d, want 429", s)
	}
	for i := range 12000 {
		f.postFrom(fmt.Sprintf("10.%d.%d.%d:4000", i>>16, i>>8&0xff, i&0xff), "/password", url.Values{})
	}
	if s := f.postFrom(newcomer, "/password", url.Values{}).Code; s == http.StatusTooManyRequests {
		t.Error("a new client after a flood of 12,000 fresh ones is refused")
	}
	if s := f.postFrom(over, "/password", url.Values{}).Code; s != http.StatusTooManyRequests {
		t.Errorf("the client over its limit, after the flood: %d, want 429", s)
	}
}

// TestForwardedHeadersIgnored: headers naming another client (a proxy's,
// or Cloudflare's, which only the Worker trusts) change nothing on a Go
// host: requests that differ only in them are one client, under one
// limit.
func TestForwardedHeadersIgnored(t *testing.T) {
	for _, header := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded", "True-Client-IP", "CF-Connecting-IP"} {
		t.Run(header, func(t *testing.T) {
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			var keys []string
			f := newFixture(t, func(c *loginpage.Config) {
				c.Now = func() time.Time { return now }
				c.Limit = func(_ context.Context, key string) (bool, error) { keys = append(keys, key); return true, nil }
			})
			value := func(i int) string {
				if header == "Forwarded" {
					return fmt.Sprintf("for=203.0.113.%d", i)
				}
				return fmt.Sprintf("203.0.113.%d", i)
			}
			for i := range 30 {
				f.postFrom("192.0.2.1:5000", "/password", url.Values{}, header, value(i))
			}
			if s := f.postFrom("192.0.2.1:5000", "/password", url.Values{}, header, value(99)).Code; s != http.StatusTooManyRequests {
				t.Errorf("31st post, %s varied each time: %d, want 429", header, s)
			}
			if keys[0] != "192.0.2.1" || keys[1] != keys[0] {
				t.Errorf("keys %q, %q for two posts differing only in %s; want the connection's address twice", keys[0], keys[1], header)
			}
		})
	}
}
