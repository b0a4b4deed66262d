package wazerohost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchauth/latch/wasm/guest/bridge"
	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/oauth"
)

// seen is one request a fake provider received.
type seen struct {
	method string
	header http.Header
	body   string
}

// fakeIdP is an OpenID provider on loopback with three issuers under
// one server: /good answers discovery (padded past the guest's 64 KiB
// call buffer) and refuses every code at its token endpoint; /moved
// answers discovery with a redirect; /huge with a body one byte over
// oauth.MaxResponseBody.
type fakeIdP struct {
	*httptest.Server
	followed atomic.Int32
	mu       sync.Mutex
	seen     map[string]seen
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	p := &fakeIdP{seen: map[string]seen{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /good/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Provider", "fake")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                           p.URL + "/good",
			"authorization_endpoint":           p.URL + "/good/authorize",
			"token_endpoint":                   p.URL + "/good/token",
			"jwks_uri":                         p.URL + "/good/jwks",
			"code_challenge_methods_supported": []string{"S256"},
			"x_padding":                        strings.Repeat("p", 100<<10),
		})
	})
	mux.HandleFunc("POST /good/token", func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
	})
	mux.HandleFunc("GET /moved/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/moved/elsewhere", func(w http.ResponseWriter, r *http.Request) { p.followed.Add(1) })
	mux.HandleFunc("GET /huge/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte(" "), oauth.MaxResponseBody+1))
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *fakeIdP) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[r.URL.Path] = seen{method: r.Method, header: r.Header.Clone(), body: string(body)}
}

func (p *fakeIdP) request(path string) (seen, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.seen[path]
	return s, ok
}

// providersDoc configures the fake provider's three issuers.
func (p *fakeIdP) providersDoc() []byte {
	var ps []map[string]string
	for _, name := range []string{"good", "moved", "huge"} {
		ps = append(ps, map[string]string{"provider": "oidc", "name": name, "issuer": p.URL + "/" + name,
			"client_id": "client-" + name, "client_secret": "client-secret-" + name})
	}
	doc, _ := json.Marshal(ps)
	return doc
}

// noRedirects is a client that returns redirects rather than follow them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestOAuthFetchThroughGuest runs social login's requests from the engine
// in the guest, through the 'F' frames, to a provider on loopback: the
// discovery GET and the token POST reach it with their headers and body,
// and its answers (a discovery document larger than the guest's call
// buffer, a refusal) come back whole; a redirect comes back unfollowed
// and a body over oauth.MaxResponseBody not at all, each failing the
// start with 502. The callback the engine names is the server's own URL
// (Config.BaseURL empty), and the public token generated for the
// providers opens the start URL.
func TestOAuthFetchThroughGuest(t *testing.T) {
	idp := newFakeIdP(t)
	var stderr syncBuffer
	s, err := newServer(Config{
		OAuthProviders: idp.providersDoc(), RedirectURLs: []string{"http://localhost:3000/authenticate"}, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !strings.HasPrefix(s.PublicToken, "public-token-test-") {
		t.Fatalf("PublicToken %q, want one generated for the providers", s.PublicToken)
	}
	start := func(provider string) *http.Response {
		t.Helper()
		resp, err := noRedirects.Get(s.URL + "/v1/public/oauth/" + provider + "/start?public_token=" + s.PublicToken)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := start("good")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != strings.TrimPrefix(idp.URL, "http://") || loc.Path != "/good/authorize" {
		t.Fatalf("start: %d to %q; want 302 to the discovered authorization endpoint; stderr: %s", resp.StatusCode, resp.Header.Get("Location"), stderr.String())
	}
	q := loc.Query()
	if got := q.Get("redirect_uri"); got != s.URL+"/v1/oauth/callback" {
		t.Errorf("redirect_uri %q, want the server's callback", got)
	}
	if q.Get("client_id") != "client-good" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorization URL %q lacks the client or PKCE the discovery document allowed", loc)
	}
	discovery, ok := idp.request("/good/.well-known/openid-configuration")
	if !ok || discovery.method != http.MethodGet || discovery.header.Get("Accept") != "application/json" || discovery.header.Get("User-Agent") != "Latch" {
		t.Errorf("discovery request %+v; want a GET with the engine's Accept and User-Agent", discovery)
	}

	// Back from the provider with a code, as a browser would be.
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "latch_oauth_") {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("start set no binding cookie: %v", resp.Header["Set-Cookie"])
	}
	cb, _ := http.NewRequest("GET", s.URL+"/v1/oauth/callback?"+url.Values{"state": {q.Get("state")}, "code": {"code-1"}}.Encode(), nil)
	cb.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	resp, err = noRedirects.Do(cb)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		ErrorType string `json:"error_type"`
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || answer.ErrorType != "oauth_token_exchange_failed" {
		t.Errorf("callback: %d %q; want 401 oauth_token_exchange_failed, the provider's refusal read through", resp.StatusCode, answer.ErrorType)
	}
	token, ok := idp.request("/good/token")
	form, _ := url.ParseQuery(token.body)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("client-good:client-secret-good"))
	switch {
	case !ok || token.method != http.MethodPost:
		t.Errorf("token request %+v, want a POST", token)
	case token.header.Get("Content-Type") != "application/x-www-form-urlencoded" || token.header.Get("Authorization") != basic:
		t.Errorf("token request headers %v; want the form's type and the client's Basic credentials", token.header)
	case form.Get("code") != "code-1" || form.Get("grant_type") != "authorization_code" || form.Get("redirect_uri") != s.URL+"/v1/oauth/callback" || form.Get("code_verifier") == "":
		t.Errorf("token request body %q", token.body)
	}

	for _, tt := range []struct {
		provider, logged string
	}{
		{provider: "moved", logged: "status 302"},
		{provider: "huge", logged: fmt.Sprintf("response body over %d bytes", oauth.MaxResponseBody)},
	} {
		t.Run(tt.provider, func(t *testing.T) {
			resp := start(tt.provider)
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("start: %d, want 502 oauth_provider_unavailable", resp.StatusCode)
			}
			if !strings.Contains(stderr.String(), tt.logged) {
				t.Errorf("the engine's log does not say %q: %s", tt.logged, stderr.String())
			}
		})
	}
	if n := idp.followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	if strings.Contains(stderr.String(), "client-secret-") {
		t.Error("a client secret reached the log")
	}
}

// TestOAuthConfig: providers turn on fetching and travel to the guest
// with the public token and the base URL; without them the guest is
// offered no outbound HTTP; a document that does not parse, or a base
// URL the engine refuses, fails New without quoting a secret.
func TestOAuthConfig(t *testing.T) {
	doc := []byte(`[{"provider":"github","client_id":"c","client_secret":"very-secret-value"}]`)
	frame := func(t *testing.T, s *Server) *wire.Config {
		t.Helper()
		f, _ := s.guestConfig()
		c, err := wire.ParseConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("providers", func(t *testing.T) {
		s, err := newServer(Config{OAuthProviders: doc, BaseURL: "https://auth.example.com", SDKOrigins: []string{"http://localhost:3000"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c := frame(t, s)
		if !c.Fetch || !bytes.Equal(c.OAuthProviders, doc) || c.BaseURL != "https://auth.example.com" || c.PublicToken != s.PublicToken || s.PublicToken == "" {
			t.Errorf("Config frame: fetch %v, providers %q, base %q, token %q; server token %q", c.Fetch, c.OAuthProviders, c.BaseURL, c.PublicToken, s.PublicToken)
		}
	})
	t.Run("none", func(t *testing.T) {
		s, err := newServer(Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if c := frame(t, s); c.Fetch || c.OAuthProviders != nil || c.PublicToken != "" || c.BaseURL != s.URL {
			t.Errorf("Config frame without providers: fetch %v, providers %q, token %q, base %q", c.Fetch, c.OAuthProviders, c.PublicToken, c.BaseURL)
		}
		if s.fetcher != nil || s.PublicToken != "" {
			t.Error("a server without providers has a fetcher or a public token")
		}
	})
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "not JSON", cfg: Config{OAuthProviders: []byte(`[{"provider":"github","client_secret":"very-secret-value"`)}, want: "not a JSON list"},
		{name: "unknown kind", cfg: Config{OAuthProviders: []byte(`[{"provider":"myspace","client_id":"c","client_secret":"very-secret-value"}]`)}, want: "not one of google, github, oidc"},
		{name: "base URL with a path", cfg: Config{OAuthProviders: doc, BaseURL: "https://auth.example.com/latch"}, want: "BaseURL must be an http or https origin"},
		{name: "public token of another environment", cfg: Config{OAuthProviders: doc, PublicToken: "public-token-live-9b1d0a52-3c4e-4f7a-8e21-6d5c4b3a2f10", SDKOrigins: []string{"http://localhost:3000"}}, want: "PublicToken"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newServer(tt.cfg)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v; want ErrConfig saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "very-secret-value") {
				t.Errorf("the error quotes the client secret: %v", err)
			}
		})
	}
}

// TestBridgeFetch drives the guest's side of the fetch frames natively
// against the host's fetcher: what the guest sends reaches the provider,
// what the provider answers reaches the guest, and every refusal of the
// host's comes back as its *wire.RemoteError.
func TestBridgeFetch(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			w.Header()["X-Echo"] = r.Header.Values("X-Multi")
			w.Header().Set("X-Method", r.Method)
			w.WriteHeader(http.StatusAccepted)
			w.Write(body)
		case "/moved":
			http.Redirect(w, r, "/echo", http.StatusMovedPermanently)
		case "/many-headers":
			for i := range wire.MaxHeaders + 1 {
				w.Header().Add("X-H", fmt.Sprint(i))
			}
		}
	}))
	defer srv.Close()
	s, _ := bridged(t)
	s.fetcher = oauth.NewHTTPFetcher(nil)
	guest := bridge.NewFetcher(s.call)

	resp, err := guest.Fetch(ctx, &oauth.Request{Method: "POST", URL: srv.URL + "/echo", Header: http.Header{"X-Multi": {"a", "b"}}, Body: []byte("code=c")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusAccepted || string(resp.Body) != "code=c" || resp.Header.Get("X-Method") != "POST" || strings.Join(resp.Header.Values("X-Echo"), ",") != "a,b" {
		t.Errorf("echo: %d %q %v", resp.Status, resp.Body, resp.Header)
	}
	resp, err = guest.Fetch(ctx, &oauth.Request{Method: "GET", URL: srv.URL + "/moved"})
	if err != nil || resp.Status != http.StatusMovedPermanently || resp.Header.Get("Location") != "/echo" {
		t.Errorf("redirect: %+v, %v; want the 301 itself", resp, err)
	}

	for _, tt := range []struct {
		name string
		req  *oauth.Request
		want string
	}{
		{name: "another scheme", req: &oauth.Request{Method: "GET", URL: "file:///etc/passwd"}, want: "only http and https"},
		{name: "an answer over the frame's bounds", req: &oauth.Request{Method: "GET", URL: srv.URL + "/many-headers"}, want: "header lines"},
		{name: "nobody there", req: &oauth.Request{Method: "GET", URL: "http://127.0.0.1:1/"}, want: "GET http://127.0.0.1:1/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := guest.Fetch(ctx, tt.req)
			var remote *wire.RemoteError
			if !errors.As(err, &remote) || !strings.Contains(remote.Message, tt.want) || resp != nil {
				t.Fatalf("Fetch = %v, %v; want the host's error saying %q", resp, err, tt.want)
			}
		})
	}
	if _, err := guest.Fetch(ctx, &oauth.Request{Method: "POST", URL: srv.URL, Body: make([]byte, oauth.MaxResponseBody+1)}); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("a body over the bound: err = %v, want wire.ErrTooLarge before sending", err)
	}
	if err := wire.ParseOK(s.dispatch(ctx, []byte{'F', 9})); err == nil || !strings.Contains(err.Error(), "wire:") {
		t.Errorf("a malformed fetch frame: host answered %v, want its parser's error", err)
	}
	s.fetcher = nil
	if _, err := guest.Fetch(ctx, &oauth.Request{Method: "GET", URL: srv.URL + "/echo"}); err == nil || !strings.Contains(err.Error(), "no outbound HTTP") {
		t.Errorf("a host without providers: err = %v", err)
	}
}
