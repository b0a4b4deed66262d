package verifier

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMiddleware(t *testing.T) {
	k := testKeys()[0]
	tests := []struct {
		name       string
		header     string
		cookies    map[string]string
		revoked    bool
		edgeDown   bool
		wantStatus int
		wantType   string // error_type of a failure
		wantCookie bool   // a fresh stytch_session_jwt is set
	}{
		{name: "JWT cookie", cookies: map[string]string{jwtCookie: "fresh"}, wantStatus: 200},
		{name: "bearer JWT", header: "Bearer fresh", wantStatus: 200},
		{name: "bearer scheme is case-insensitive", header: "bearer fresh", wantStatus: 200},
		{name: "bearer opaque token", header: "Bearer opaque-token", wantStatus: 200},
		{name: "expired JWT cookie is refreshed", cookies: map[string]string{jwtCookie: "expired"}, wantStatus: 200, wantCookie: true},
		{name: "opaque cookie", cookies: map[string]string{tokenCookie: "opaque-token"}, wantStatus: 200, wantCookie: true},
		{name: "bad JWT cookie falls back to the opaque one", cookies: map[string]string{jwtCookie: "forged", tokenCookie: "opaque-token"}, wantStatus: 200, wantCookie: true},
		{name: "nothing", wantStatus: 401, wantType: "unauthorized"},
		{name: "basic auth", header: "Basic dXNlcjpwYXNz", wantStatus: 401, wantType: "unauthorized"},
		{name: "empty bearer", header: "Bearer ", wantStatus: 401, wantType: "unauthorized"},
		{name: "forged JWT", header: "Bearer forged", wantStatus: 401, wantType: "unauthorized"},
		{name: "revoked session", cookies: map[string]string{jwtCookie: "expired"}, revoked: true, wantStatus: 401, wantType: "session_not_found"},
		{name: "edge down", cookies: map[string]string{jwtCookie: "expired"}, edgeDown: true, wantStatus: 503, wantType: "service_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, f := newEdge(t, clk)
			f.revoked = tt.revoked
			tokens := map[string]string{
				"fresh":        mint(t, k, claimsAt(clk.Now())),
				"expired":      mint(t, k, claimsAt(clk.Now().Add(-time.Hour))),
				"forged":       mint(t, withKID(testKeys()[1], k.KID), claimsAt(clk.Now())),
				"opaque-token": "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q",
			}
			expand := func(s string) string {
				if tok, ok := tokens[s]; ok {
					return tok
				}
				return s
			}
			v := newTestVerifier(t, srv, clk, nil)
			if err := v.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			if tt.edgeDown {
				srv.Close()
			}
			var seen *Session
			h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, ok := FromContext(r.Context())
				if !ok {
					t.Error("no session in the request context")
				}
				seen = s
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				scheme, tok, _ := cutSpace(tt.header)
				req.Header.Set("Authorization", scheme+" "+expand(tok))
			}
			for name, val := range tt.cookies {
				req.AddCookie(&http.Cookie{Name: name, Value: expand(val)})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var fresh *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == jwtCookie {
					fresh = c
				}
			}
			if (fresh != nil) != tt.wantCookie {
				t.Fatalf("fresh cookie = %v, want one: %v", fresh, tt.wantCookie)
			}
			if fresh != nil {
				if _, err := v.Verify(t.Context(), fresh.Value); err != nil || fresh.Path != "/" {
					t.Fatalf("fresh cookie %+v: %v", fresh, err)
				}
			}
			if tt.wantStatus == 200 {
				if seen == nil || seen.UserID != "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd" {
					t.Fatalf("handler saw %+v", seen)
				}
				return
			}
			if seen != nil {
				t.Fatal("handler ran without a session")
			}
			var body struct {
				StatusCode   int    `json:"status_code"`
				ErrorType    string `json:"error_type"`
				ErrorMessage string `json:"error_message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if body.StatusCode != tt.wantStatus || body.ErrorType != tt.wantType || body.ErrorMessage == "" ||
				rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("body = %+v, content type %q", body, rec.Header().Get("Content-Type"))
			}
		})
	}
}

func cutSpace(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestFromContextEmpty(t *testing.T) {
	if s, ok := FromContext(t.Context()); ok || s != nil {
		t.Fatalf("FromContext(empty) = %v, %v", s, ok)
	}
}

// TestMiddlewareCookieAttributes checks the refreshed stytch_session_jwt
// cookie: Secure unless the request came over plain HTTP to a loopback
// host (behind a TLS-terminating proxy too), HttpOnly and SameSite=Lax by
// default, and the configured attributes otherwise.
func TestMiddlewareCookieAttributes(t *testing.T) {
	k := testKeys()[0]
	tests := []struct {
		name         string
		host         string
		tls          bool
		header       map[string]string
		edit         func(c *Config)
		wantSecure   bool
		wantHTTPOnly bool
		wantSameSite http.SameSite
		wantDomain   string
		wantPath     string
	}{
		{name: "loopback over http", host: "localhost:8080", wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "IPv4 loopback over http", host: "127.0.0.1:3000", wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "IPv6 loopback over http", host: "[::1]:3000", wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "loopback over https", host: "localhost", tls: true, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "non-loopback without TLS", host: "app.example.com", wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "behind a TLS-terminating proxy", host: "app.example.com", header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
			wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "proxy on loopback forwarding a public host", host: "app.example.com", header: map[string]string{"X-Forwarded-Host": "localhost"},
			wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "direct TLS", host: "app.example.com", tls: true, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode, wantPath: "/"},
		{name: "configured", host: "app.example.com",
			edit: func(c *Config) {
				c.CookieDomain, c.CookiePath, c.CookieSameSite, c.CookieScriptReadable = "example.com", "/app", http.SameSiteStrictMode, true
			},
			wantSecure: true, wantSameSite: http.SameSiteStrictMode, wantDomain: "example.com", wantPath: "/app"},
		{name: "SameSite=None is Secure even on loopback", host: "localhost:8080", edit: func(c *Config) { c.CookieSameSite = http.SameSiteNoneMode },
			wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteNoneMode, wantPath: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, _ := newEdge(t, clk)
			v := newTestVerifier(t, srv, clk, tt.edit)
			h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			req := httptest.NewRequest(http.MethodGet, "http://"+tt.host+"/", nil)
			if !tt.tls {
				req.TLS = nil
			} else if req.TLS == nil {
				req.TLS = &tls.ConnectionState{}
			}
			for k, val := range tt.header {
				req.Header.Set(k, val)
			}
			req.AddCookie(&http.Cookie{Name: jwtCookie, Value: mint(t, k, claimsAt(clk.Now().Add(-time.Hour)))})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			cookies := rec.Result().Cookies()
			if len(cookies) != 1 || cookies[0].Name != jwtCookie {
				t.Fatalf("Set-Cookie = %v", rec.Header().Values("Set-Cookie"))
			}
			c := cookies[0]
			if c.Secure != tt.wantSecure || c.HttpOnly != tt.wantHTTPOnly || c.SameSite != tt.wantSameSite ||
				c.Domain != tt.wantDomain || c.Path != tt.wantPath || c.Expires.IsZero() {
				t.Fatalf("Set-Cookie %q; want Secure %v HttpOnly %v SameSite %v Domain %q Path %q",
					rec.Header().Get("Set-Cookie"), tt.wantSecure, tt.wantHTTPOnly, tt.wantSameSite, tt.wantDomain, tt.wantPath)
			}
		})
	}
}

// TestMiddlewareDefaultAnswerHidesErrors: without Config.ErrorHandler,
// Middleware answers a fixed message for each kind of refusal, never the
// error's text (which may name the edge's address, a dial error or the
// edge's request id), and logs that text through Config.Logger: at Warn
// when the origin or the edge is at fault, at Debug when the request is.
func TestMiddlewareDefaultAnswerHidesErrors(t *testing.T) {
	k := testKeys()[0]
	tests := []struct {
		name       string
		cookie     string // "fresh", "expired", "forged" or ""
		edit       func(c *Config)
		jwksDown   bool
		edgeDown   bool
		revoked    bool
		wantStatus int
		wantType   string
		wantLevel  string // the log line's level
		wantLogged string // part of the error's text, in the log line
	}{
		{name: "no token", wantStatus: 401, wantType: "unauthorized", wantLevel: "DEBUG", wantLogged: "no session token in request"},
		{name: "forged JWT", cookie: "forged", wantStatus: 401, wantType: "unauthorized", wantLevel: "DEBUG", wantLogged: k.KID},
		{name: "revoked session", cookie: "expired", revoked: true, wantStatus: 401, wantType: "session_not_found", wantLevel: "DEBUG", wantLogged: "request-id-test-2"},
		{name: "wrong secret", cookie: "expired", edit: func(c *Config) { c.Secret = "secret-test-wrong" },
			wantStatus: 401, wantType: "unauthorized", wantLevel: "WARN", wantLogged: "unauthorized_credentials"},
		{name: "edge down", cookie: "expired", edgeDown: true, wantStatus: 503, wantType: "service_unavailable", wantLevel: "WARN", wantLogged: "/v1/sessions/authenticate"},
		{name: "keys unavailable", cookie: "fresh", jwksDown: true, edit: func(c *Config) { c.Secret = "" },
			wantStatus: 503, wantType: "service_unavailable", wantLevel: "WARN", wantLogged: "answered 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, f := newEdge(t, clk)
			f.revoked = tt.revoked
			if tt.jwksDown {
				srv.setStatus(http.StatusInternalServerError)
			}
			var logs syncBuffer
			v := newTestVerifier(t, srv, clk, func(c *Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			if !tt.jwksDown {
				if err := v.Refresh(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			edgeAddr := strings.TrimPrefix(srv.URL, "http://")
			if tt.edgeDown {
				srv.Close()
			}
			h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("next ran") }))
			req := httptest.NewRequest(http.MethodGet, "/account", nil)
			switch tt.cookie {
			case "fresh":
				req.AddCookie(&http.Cookie{Name: jwtCookie, Value: mint(t, k, claimsAt(clk.Now()))})
			case "expired":
				req.AddCookie(&http.Cookie{Name: jwtCookie, Value: mint(t, k, claimsAt(clk.Now().Add(-time.Hour)))})
			case "forged":
				req.AddCookie(&http.Cookie{Name: jwtCookie, Value: mint(t, withKID(testKeys()[1], k.KID), claimsAt(clk.Now()))})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			var body struct {
				StatusCode   int    `json:"status_code"`
				ErrorType    string `json:"error_type"`
				ErrorMessage string `json:"error_message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.wantStatus || body.StatusCode != tt.wantStatus || body.ErrorType != tt.wantType {
				t.Fatalf("%d %+v; want %d %s", rec.Code, body, tt.wantStatus, tt.wantType)
			}
			if want := refusalMessages[tt.wantType]; body.ErrorMessage != want {
				t.Errorf("error_message = %q, want the fixed %q", body.ErrorMessage, want)
			}
			for _, leak := range []string{"verifier:", edgeAddr, "127.0.0.1", tt.wantLogged} {
				if strings.Contains(rec.Body.String(), leak) {
					t.Errorf("the body %q holds %q", rec.Body, leak)
				}
			}
			line := logs.String()
			if !strings.Contains(line, "level="+tt.wantLevel) || !strings.Contains(line, tt.wantLogged) ||
				!strings.Contains(line, fmt.Sprintf("status=%d", tt.wantStatus)) {
				t.Errorf("log %q; want a %s line with %q and the status", line, tt.wantLevel, tt.wantLogged)
			}
		})
	}
}

// refusalMessages are the default answer's error_message for each
// error_type.
var refusalMessages = map[string]string{
	"unauthorized":        "A valid session is required.",
	"session_not_found":   "The session has ended or does not exist.",
	"service_unavailable": "Sessions cannot be checked right now; try again later.",
}
