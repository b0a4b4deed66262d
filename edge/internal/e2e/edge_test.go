//go:build !js

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/keys"
)

// TestJWKSIsPublicHalfOfConfiguredKeys checks that the Worker publishes
// exactly the public members of LATCH_SIGNING_KEYS, in order, and signs
// with the first key.
func TestJWKSIsPublicHalfOfConfiguredKeys(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	status, out := a.call(http.MethodGet, "/v1/sessions/jwks/"+w.ProjectID, nil, false)
	if status != http.StatusOK {
		t.Fatalf("jwks: %d %v", status, out)
	}
	got, _ := out["keys"].([]any)
	if len(got) != len(w.Keys) {
		t.Fatalf("jwks has %d keys, want %d", len(got), len(w.Keys))
	}
	for i, k := range w.Keys {
		want := keys.Public(k)
		g := got[i].(map[string]any)
		if g["kid"] != want.KID || g["n"] != want.N || g["e"] != want.E {
			t.Errorf("key %d: got kid=%v n=%.16v… e=%v, want kid=%s n=%.16s… e=%s", i, g["kid"], g["n"], g["e"], want.KID, want.N, want.E)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := g[private]; ok {
				t.Errorf("key %d publishes private member %q", i, private)
			}
		}
	}
	status, out = a.call(http.MethodGet, "/v1/sessions/jwks/project-test-00000000-0000-4000-8000-000000000000", nil, false)
	if status != http.StatusNotFound || out["error_type"] != "project_not_found" {
		t.Errorf("jwks of another project: %d %v, want 404 project_not_found", status, out["error_type"])
	}
}

// TestMisconfiguredWorker checks that a Worker with a missing or broken
// setting answers every request with a generic Stytch-shaped 500 that does
// not tell the (unauthenticated) caller which setting is at fault, nor any
// secret, keeps doing so instead of crashing, and names the setting in its
// log.
func TestMisconfiguredWorker(t *testing.T) {
	t.Parallel()
	RequireWrangler(t) // once, not in each subtest
	good, _, err := freshVars()
	if err != nil {
		t.Fatal(err)
	}
	without := func(key string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			if k != key {
				m[k] = v
			}
		}
		return m
	}
	with := func(key, value string) map[string]string {
		m := without(key)
		m[key] = value
		return m
	}
	withMail := func(extra map[string]string) map[string]string {
		m := without("")
		for k, v := range map[string]string{"LATCH_MAIL": "webhook", "LATCH_MAIL_FROM": "login@example.com",
			"LATCH_MAIL_WEBHOOK_URL": "https://mail.example.com/hook", "LATCH_MAIL_WEBHOOK_SECRET": strings.Repeat("s3cr3t", 6)} {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		name    string
		vars    map[string]string
		mention string
	}{
		{name: "unknown mail transport", vars: withMail(map[string]string{"LATCH_MAIL": "smtp"}), mention: "LATCH_MAIL "},
		{name: "webhook secret short", vars: withMail(map[string]string{"LATCH_MAIL_WEBHOOK_SECRET": "s3cr3t-but-short"}), mention: "LATCH_MAIL_WEBHOOK_SECRET"},
		{name: "webhook over http", vars: withMail(map[string]string{"LATCH_MAIL_WEBHOOK_URL": "http://mail.example.com/hook"}), mention: "LATCH_MAIL_WEBHOOK_URL"},
		{name: "send_email without from", vars: withMail(map[string]string{"LATCH_MAIL": "send_email", "LATCH_MAIL_FROM": ""}), mention: "LATCH_MAIL_FROM"},
		{name: "templates not JSON", vars: withMail(map[string]string{"LATCH_MAIL_TEMPLATES": `{"otp": s3cr3t}`}), mention: "LATCH_MAIL_TEMPLATES"},
		{name: "redirect URL not absolute", vars: withMail(map[string]string{"LATCH_REDIRECT_URLS": "https://app.example.com/a,/relative"}), mention: "redirect URL"},
		{name: "missing secret", vars: without("LATCH_PROJECT_SECRET"), mention: "LATCH_PROJECT_SECRET"},
		{name: "missing project id", vars: without("LATCH_PROJECT_ID"), mention: "LATCH_PROJECT_ID"},
		{name: "keys not JSON", vars: with("LATCH_SIGNING_KEYS", "not-json-s3cr3t"), mention: "LATCH_SIGNING_KEYS"},
		{name: "secret box key not base64url", vars: with("LATCH_SECRET_BOX_KEY", "s3cr3t+box/key="), mention: "LATCH_SECRET_BOX_KEY"},
		{name: "secret box key short", vars: with("LATCH_SECRET_BOX_KEY", "s3cr3t-box-key-of-16-by"), mention: "LATCH_SECRET_BOX_KEY"},
		{name: "key not RSA private", vars: with("LATCH_SIGNING_KEYS", `{"keys":[{"kty":"RSA","kid":"jwk-test-x","n":"AQAB","e":"AQAB","d":"s3cr3t"}]}`), mention: "LATCH_SIGNING_KEYS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := &syncBuffer{}
			opts := Options{Vars: c.vars, Log: log}
			if testing.Verbose() {
				opts.Log = io.MultiWriter(log, testLog{t})
			}
			w := Start(t, opts)
			a := newAPI(t, w.Target)
			for i := range 3 {
				status, out := a.call(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": "x"}, true)
				if status != http.StatusInternalServerError || out["error_type"] != "internal_server_error" {
					t.Fatalf("request %d: %d %v, want 500 internal_server_error", i, status, out)
				}
				answer := fmt.Sprint(out)
				for _, word := range []string{c.mention, "LATCH_", "misconfigured"} {
					if strings.Contains(answer, word) {
						t.Errorf("answer tells the caller %q: %v", word, out)
					}
				}
				for _, secret := range []string{good["LATCH_PROJECT_SECRET"], "s3cr3t"} {
					if strings.Contains(answer, secret) {
						t.Errorf("answer leaks a secret value: %v", out)
					}
				}
				if id, _ := out["request_id"].(string); !strings.HasPrefix(id, "request-id-test-") {
					t.Errorf("request_id = %q, want request-id-test-…", id)
				}
			}
			// The log names the setting (wrangler prints it as it comes).
			deadline := time.Now().Add(10 * time.Second)
			for !log.hasLine("misconfigured", c.mention) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if !log.hasLine("misconfigured", c.mention) {
				t.Errorf("no log line says the Worker is misconfigured at %s", c.mention)
			}
			if strings.Contains(log.String(), good["LATCH_PROJECT_SECRET"]) || strings.Contains(log.String(), "s3cr3t") {
				t.Error("log leaks a secret value")
			}
		})
	}
}

// TestConcurrentRequests sends requests in parallel into the one Go
// instance of the isolate; every one must be answered correctly.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sessionRoundTrip(a, fmt.Sprintf("c%d@example.com", i)); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// sessionRoundTrip creates a user, logs in by magic link and authenticates
// the session; it may run on any goroutine.
func sessionRoundTrip(a *api, email string) error {
	user, err := a.try(http.MethodPost, "/v1/users", map[string]any{"email": email})
	if err != nil {
		return err
	}
	ml, err := a.try(http.MethodPost, "/v1/magic_links", map[string]any{"user_id": user["user_id"]})
	if err != nil {
		return err
	}
	auth, err := a.try(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 30})
	if err != nil {
		return err
	}
	res, err := a.try(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": auth["session_token"]})
	if err != nil {
		return err
	}
	u, _ := res["user"].(map[string]any)
	if u["user_id"] != user["user_id"] {
		return fmt.Errorf("session of user %v, want %v", u["user_id"], user["user_id"])
	}
	return nil
}

// TestUnreadableURL: a path with a percent-escape Go cannot read (the
// runtime passes it on) is the client's bad request, answered 400 as the
// Go hosts answer it, and the Worker's log line about it leaves out the
// URL, whose query may hold a token.
func TestUnreadableURL(t *testing.T) {
	t.Parallel()
	log := &syncBuffer{}
	opts := Options{Log: log}
	if testing.Verbose() {
		opts.Log = io.MultiWriter(log, testLog{t})
	}
	w := Start(t, opts)
	req, err := http.NewRequest(http.MethodGet, w.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = "/v1/oauth/callback%zz"
	req.URL.RawQuery = "code=s3cr3t-code&state=s3cr3t-state"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error_type":"bad_request"`) {
		t.Fatalf("GET /v1/oauth/callback%%zz: %d %s, want 400 bad_request", res.StatusCode, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !log.hasLine("request URL refused") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !log.hasLine("request URL refused") {
		t.Fatal("no log line says the URL was refused")
	}
	if log.hasLine("request URL refused", "s3cr3t") {
		t.Error("the log line about the refused URL holds its query")
	}
}
