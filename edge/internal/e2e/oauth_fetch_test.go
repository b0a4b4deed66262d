//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/oauth"
)

// TestWorkerFetch drives the Worker's outbound requests (the glue's
// fetch, edge/fetch_js.go) through the engine: the start URL of an OpenID
// provider reads the provider's discovery document. Five providers on one
// local server each answer it differently: as expected (the browser is
// sent to the authorization endpoint it names, and the request arrived
// with the engine's headers), with a redirect (not followed: the start
// fails), with a body over oauth.MaxResponseBody declared in
// Content-Length or only streamed (refused), or not at all (given up
// after oauth.Timeout, the connection closed). A failure answers 502
// oauth_provider_unavailable and the log says why, naming no secret.
func TestWorkerFetch(t *testing.T) {
	t.Parallel()
	RequireWrangler(t)
	idp := newDiscoveryServer(t)
	var ps []map[string]any
	for _, name := range []string{"ok", "moved", "declared", "streamed", "silent"} {
		ps = append(ps, map[string]any{"provider": "oidc", "name": name, "issuer": idp.URL + "/" + name,
			"client_id": "client-" + name, "client_secret": oauthSecret})
	}
	doc, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	opts := Options{SDKOrigins: []string{"http://127.0.0.1:3000"}, OAuthProviders: string(doc),
		BaseURL: "https://auth.example.com", Log: log,
		MoreVars: map[string]string{"LATCH_REDIRECT_URLS": "http://127.0.0.1:3000/authenticate"}}
	if testing.Verbose() {
		opts.Log = io.MultiWriter(log, testLog{t})
	}
	w := Start(t, opts)
	client := &http.Client{
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := func(provider string) (*http.Response, map[string]any) {
		t.Helper()
		res, err := client.Get(w.URL + "/v1/public/oauth/" + provider + "/start?public_token=" + url.QueryEscape(w.PublicToken))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if res.StatusCode != http.StatusFound {
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatalf("%s: status %d, not JSON: %v", provider, res.StatusCode, err)
			}
		}
		return res, out
	}

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		res, out := start("ok")
		if res.StatusCode != http.StatusFound {
			t.Fatalf("status %d %v, want 302", res.StatusCode, out)
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), idp.URL+"/ok/authorize?") {
			t.Fatalf("Location %q, want the discovered %s/ok/authorize", res.Header.Get("Location"), idp.URL)
		}
		q := loc.Query()
		if q.Get("client_id") != "client-ok" || q.Get("redirect_uri") != "https://auth.example.com/v1/oauth/callback" ||
			q.Get("code_challenge_method") != "S256" {
			t.Errorf("authorization URL query %v", q)
		}
		got := idp.requests("/ok/.well-known/openid-configuration")
		if len(got) != 1 {
			t.Fatalf("%d discovery requests, want 1", len(got))
		}
		if got[0].Method != http.MethodGet || got[0].Header.Get("Accept") != "application/json" {
			t.Errorf("discovery request %s with Accept %q, want GET with application/json", got[0].Method, got[0].Header.Get("Accept"))
		}
	})
	t.Run("a redirect is not followed", func(t *testing.T) {
		t.Parallel()
		expectUnavailable(t, start, "moved", log, "status 302")
		if n := len(idp.requests("/moved/elsewhere")); n != 0 {
			t.Errorf("the redirect was followed %d times", n)
		}
	})
	t.Run("a body declared too large", func(t *testing.T) {
		t.Parallel()
		expectUnavailable(t, start, "declared", log, fmt.Sprintf("answer larger than %d bytes", oauth.MaxResponseBody))
	})
	t.Run("a body streamed too large", func(t *testing.T) {
		t.Parallel()
		expectUnavailable(t, start, "streamed", log, fmt.Sprintf("answer larger than %d bytes", oauth.MaxResponseBody))
	})
	t.Run("no answer", func(t *testing.T) {
		t.Parallel()
		began := time.Now()
		// The glue's timer or Go's deadline, whichever fires first,
		// aborts the fetch: both say the same.
		expectUnavailable(t, start, "silent", log, fmt.Sprintf("no answer within %v", oauth.Timeout))
		if took := time.Since(began); took < oauth.Timeout-time.Second || took > oauth.Timeout+15*time.Second {
			t.Errorf("the start answered after %v, want about %v", took, oauth.Timeout)
		}
		select {
		case <-idp.silentClosed:
		case <-time.After(10 * time.Second):
			t.Error("the Worker kept the provider's connection open after giving up")
		}
	})
	t.Cleanup(func() {
		if strings.Contains(log.String(), oauthSecret) {
			t.Error("the log holds the client secret")
		}
	})
}

// expectUnavailable checks that the start of provider answers 502
// oauth_provider_unavailable and that a log line gives why.
func expectUnavailable(t *testing.T, start func(string) (*http.Response, map[string]any), provider string, log *syncBuffer, why string) {
	t.Helper()
	res, out := start(provider)
	if res.StatusCode != http.StatusBadGateway || out["error_type"] != "oauth_provider_unavailable" {
		t.Fatalf("%s: %d %v, want 502 oauth_provider_unavailable", provider, res.StatusCode, out)
	}
	path := "/" + provider + "/.well-known/openid-configuration"
	deadline := time.Now().Add(10 * time.Second)
	for !log.hasLine(path, why) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !log.hasLine(path, why) {
		t.Errorf("%s: no log line names %s and says %q", provider, path, why)
	}
}

// discoveryServer is a provider's discovery documents, answered in the
// ways TestWorkerFetch names.
type discoveryServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string][]*http.Request
	// silentClosed is closed when the Worker hangs up on the request
	// that is never answered.
	silentClosed chan struct{}
}

func newDiscoveryServer(t *testing.T) *discoveryServer {
	s := &discoveryServer{seen: map[string][]*http.Request{}, silentClosed: make(chan struct{})}
	var closeSilent sync.Once
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen[r.URL.Path] = append(s.seen[r.URL.Path], r.Clone(r.Context()))
		s.mu.Unlock()
		provider, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if rest != ".well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		switch provider {
		case "ok":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(s.discovery("ok"))
		case "moved":
			http.Redirect(w, r, s.URL+"/moved/elsewhere", http.StatusFound)
		case "declared":
			w.Header().Set("Content-Length", fmt.Sprint(oauth.MaxResponseBody+1))
			w.Write([]byte(strings.Repeat(" ", oauth.MaxResponseBody+1)))
		case "streamed":
			// No Content-Length: chunks until the reader gives up.
			chunk := []byte(strings.Repeat(" ", 64<<10))
			for range 2 * oauth.MaxResponseBody / len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		case "silent":
			select {
			case <-r.Context().Done():
				closeSilent.Do(func() { close(s.silentClosed) })
			case <-time.After(2 * time.Minute):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// discovery is the discovery document of the provider of that name.
func (s *discoveryServer) discovery(name string) map[string]any {
	issuer := s.URL + "/" + name
	return map[string]any{
		"issuer":                           issuer,
		"authorization_endpoint":           issuer + "/authorize",
		"token_endpoint":                   issuer + "/token",
		"userinfo_endpoint":                issuer + "/userinfo",
		"jwks_uri":                         issuer + "/jwks",
		"code_challenge_methods_supported": []string{"S256"},
	}
}

// requests returns the requests the server was sent for path.
func (s *discoveryServer) requests(path string) []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.seen[path]...)
}
