package exampleorigin_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/exampleorigin"
)

// goodSDK is a valid SDKConfig; its script is a stand-in for the SDK.
func goodSDK() *exampleorigin.SDKConfig {
	return &exampleorigin.SDKConfig{
		PublicToken: "public-token-test-6f1e0c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
		LatchURL:    "http://127.0.0.1:8787",
		Script:      []byte("var stytch = {}; // stand-in\n"),
	}
}

// sdkCSP is the policy of the SDK's pages for Latch at latchOrigin.
func sdkCSP(latchOrigin string) string {
	return "default-src 'none'; script-src 'self'; connect-src " + latchOrigin + "; frame-src " + latchOrigin +
		"; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// fetch sends method url with header, following no redirect, and
// returns the answer and its body.
func fetch(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

var (
	attrRE         = regexp.MustCompile(`\sdata-([a-z-]+)="([^"]*)"`)
	scriptSrcRE    = regexp.MustCompile(`<script src="([^"]*)" defer></script>`)
	inlineScriptRE = regexp.MustCompile(`<script[^>]*>[^<]`)
	hostedLoginRE  = regexp.MustCompile(`<a id="hosted-login" href="([^"]*)"`)
)

// dataAttributes are the page's data-* attributes, unescaped, by name.
func dataAttributes(body string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// TestSDKPages checks the SDK sign-in's pages and scripts as the origin
// serves them: their policies, the settings the scripts read, and that
// the public token is escaped in the page. Latch's URL has a path and a
// trailing slash: the SDK gets it without the slash, the policy only its
// origin.
func TestSDKPages(t *testing.T) {
	edge := testharness.Start(t)
	const token = `public-token-test-"><script>alert('x')</script>&`
	sdkJS := []byte("/* the SDK */ var stytch = {};\n")
	o := startOriginWith(t, edge, nil, func(c *exampleorigin.Config) {
		c.SDK = &exampleorigin.SDKConfig{PublicToken: token, LatchURL: "http://127.0.0.1:8787/latch/", Script: sdkJS}
	})
	const latch = "http://127.0.0.1:8787/latch"
	home := url.QueryEscape(o.url + "/")
	wantLogin := o.login + "?return_to=" + home
	wantLogout := o.login + "/logout?return_to=" + home

	t.Run("pages", func(t *testing.T) {
		tests := []struct {
			name       string
			path       string
			wantScript string
			wantData   map[string]string
		}{
			{name: "sign-in", path: "/sdk-login", wantScript: "/sdk-login.js", wantData: map[string]string{
				"public-token": token, "latch-url": latch, "frame-url": latch + "/sdk/clientside-services/index.html",
			}},
			{name: "sign-out", path: "/sdk-logout", wantScript: "/sdk-logout.js", wantData: map[string]string{
				"public-token": token, "latch-url": latch, "frame-url": latch + "/sdk/clientside-services/index.html",
				"logout-url": wantLogout,
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := fetch(t, "GET", o.url+tt.path, nil)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
					t.Fatalf("status %d, Content-Type %q; body %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				want := map[string]string{
					"Content-Security-Policy": sdkCSP("http://127.0.0.1:8787"),
					"Cache-Control":           "no-store",
					"X-Content-Type-Options":  "nosniff",
					"Referrer-Policy":         "no-referrer",
				}
				for k, v := range want {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if got := dataAttributes(body); len(got) != len(tt.wantData) {
					t.Errorf("data attributes %q, want %q", got, tt.wantData)
				} else {
					for k, v := range tt.wantData {
						if got[k] != v {
							t.Errorf("data-%s = %q, want %q", k, got[k], v)
						}
					}
				}
				if strings.Contains(body, "<script>alert") || strings.Contains(body, `test-"`) {
					t.Errorf("the public token is in the page unescaped: %s", body)
				}
				var srcs []string
				for _, m := range scriptSrcRE.FindAllStringSubmatch(body, -1) {
					srcs = append(srcs, m[1])
				}
				if len(srcs) != 2 || srcs[0] != "/sdk/stytch.js" || srcs[1] != tt.wantScript {
					t.Errorf("scripts %q, want /sdk/stytch.js and %s", srcs, tt.wantScript)
				}
				if m := inlineScriptRE.FindString(body); m != "" {
					t.Errorf("an inline script, which the policy refuses: %q", m)
				}
			})
		}
	})

	t.Run("sign-in page links the login page", func(t *testing.T) {
		_, body := fetch(t, "GET", o.url+"/sdk-login", nil)
		m := hostedLoginRE.FindStringSubmatch(body)
		if m == nil || html.UnescapeString(m[1]) != wantLogin {
			t.Fatalf("hosted login link %q, want %q", m, wantLogin)
		}
	})

	t.Run("scripts", func(t *testing.T) {
		tests := []struct {
			name     string
			path     string
			wantBody string // all of it, or else
			wantHas  []string
		}{
			{name: "the SDK", path: "/sdk/stytch.js", wantBody: string(sdkJS)},
			{name: "sign-in", path: "/sdk-login.js", wantHas: []string{"new stytch.StytchUIClient(settings.publicToken",
				"testAPIURL: settings.latchUrl", "liveAPIURL: settings.latchUrl", "clientsideServicesIframeURL: settings.frameUrl",
				"products: [stytch.Products.otp]", "methods: ['email'], expirationMinutes: 5", "sessionDurationMinutes: 60",
				"client.session.onChange", "location.replace('/')", "stytch.mountLogin(args).render(args)"}},
			{name: "sign-out", path: "/sdk-logout.js", wantHas: []string{"new stytch.StytchUIClient(settings.publicToken",
				"client.session.revoke()", "location.replace('/sdk-login')", "location.replace(settings.logoutUrl)"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := fetch(t, "GET", o.url+tt.path, nil)
				etag := resp.Header.Get("ETag")
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/javascript; charset=utf-8" ||
					resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
					!regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
					t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
				}
				if tt.wantBody != "" && body != tt.wantBody {
					t.Errorf("body %q, want %q", body, tt.wantBody)
				}
				for _, s := range tt.wantHas {
					if !strings.Contains(body, s) {
						t.Errorf("no %q in %s", s, body)
					}
				}
				resp, body = fetch(t, "GET", o.url+tt.path, http.Header{"If-None-Match": {etag}})
				if resp.StatusCode != http.StatusNotModified || body != "" {
					t.Errorf("revalidated: status %d, %d bytes; want 304 and none", resp.StatusCode, len(body))
				}
			})
		}
	})

	t.Run("methods", func(t *testing.T) {
		tests := []struct {
			name       string
			method     string
			path       string
			wantStatus int
		}{
			{name: "HEAD sign-in", method: "HEAD", path: "/sdk-login", wantStatus: 200},
			{name: "HEAD SDK", method: "HEAD", path: "/sdk/stytch.js", wantStatus: 200},
			{name: "POST sign-in", method: "POST", path: "/sdk-login", wantStatus: 405},
			{name: "POST sign-out", method: "POST", path: "/sdk-logout", wantStatus: 405},
			{name: "below the sign-in", method: "GET", path: "/sdk-login/x", wantStatus: 404},
			{name: "other SDK file", method: "GET", path: "/sdk/index.js", wantStatus: 404},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if resp, body := fetch(t, tt.method, o.url+tt.path, nil); resp.StatusCode != tt.wantStatus {
					t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
				}
			})
		}
	})

	// The page behind the verifier keeps its policy; its sign-out goes
	// through the SDK's.
	t.Run("signed-in page", func(t *testing.T) {
		s := signIn(t, edge)
		resp, body := o.get(t, "GET", "/", map[string]string{jwtCookie: s.jwt})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d; body %s", resp.StatusCode, body)
		}
		checkStrictHeaders(t, resp.Header)
		if p := readPage(t, body); p.greeting != "Signed in as "+s.email || p.logout != "/sdk-logout" {
			t.Fatalf("greeting %q, sign-out %q; want %s and /sdk-logout", p.greeting, p.logout, s.email)
		}
	})
}

// TestSDKOff checks that without Config.SDK the origin serves none of the
// SDK sign-in.
func TestSDKOff(t *testing.T) {
	edge := testharness.Start(t)
	o := startOrigin(t, edge, nil)
	for _, path := range []string{"/sdk-login", "/sdk-logout", "/sdk-login.js", "/sdk-logout.js", "/sdk/stytch.js"} {
		t.Run(path, func(t *testing.T) {
			resp, body := fetch(t, "GET", o.url+path, nil)
			if resp.StatusCode != 404 {
				t.Fatalf("status %d, want 404; body %s", resp.StatusCode, body)
			}
			checkStrictHeaders(t, resp.Header)
		})
	}
}
