package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/apitest"
)

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	noSecret := filepath.Join(dir, "no-secret.vars")
	if err := os.WriteFile(noSecret, []byte("LATCH_PROJECT_ID=project-test-x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.vars")
	if err := os.WriteFile(good, []byte("LATCH_PROJECT_ID=project-test-x\nLATCH_PROJECT_SECRET=secret-test-never-shown\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
		msg  string // in stderr
	}{
		{name: "help", args: []string{"-h"}, want: 0, msg: "-dev-vars"},
		{name: "unknown flag", args: []string{"-bogus"}, want: 2, msg: "-addr"},
		{name: "extra argument", args: []string{"serve"}, want: 2, msg: `unexpected arguments ["serve"]`},
		{name: "no dev vars", args: []string{"-dev-vars", filepath.Join(dir, "missing")}, want: 1, msg: "not found: run make dev first, or set LATCH_PROJECT_ID and LATCH_PROJECT_SECRET"},
		{name: "no secret", args: []string{"-dev-vars", noSecret}, want: 1, msg: "LATCH_PROJECT_ID and LATCH_PROJECT_SECRET are required"},
		{name: "edge over http off loopback", args: []string{"-dev-vars", good, "-addr", "127.0.0.1:0", "-latch-url", "http://auth.example.com"}, want: 1, msg: "latch-example-origin: verifier: invalid config"},
		{name: "relative login URL", args: []string{"-dev-vars", good, "-addr", "127.0.0.1:0", "-login-url", "/login"}, want: 1, msg: `latch-example-origin: exampleorigin: LoginURL "/login"`},
		{name: "bad address", args: []string{"-dev-vars", good, "-addr", "127.0.0.1:99999"}, want: 1, msg: "latch-example-origin: listen tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(keyProjectID, "")
			t.Setenv(keySecret, "")
			// The verifier's background fetch of the keys may still log
			// once run has returned.
			var stdout, stderr syncBuffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.msg)
			}
			if strings.Contains(stdout.String()+stderr.String(), "secret-test-never-shown") {
				t.Errorf("the secret was printed: %s %s", stdout.String(), stderr.String())
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	const file = `# Latch dev Worker settings
LATCH_PROJECT_ID="project-test-from-file"
LATCH_PROJECT_SECRET='secret-test-from-file'
LATCH_SIGNING_KEYS='{"keys":[]}'

LATCH_MAIL=webhook
`
	path := filepath.Join(t.TempDir(), ".dev.vars")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                     string
		path                     string
		envID, envSecret         string
		wantID, wantSecret, want string // want: in the error; empty for none
	}{
		{name: "file", path: path, wantID: "project-test-from-file", wantSecret: "secret-test-from-file"},
		{name: "environment overrides the secret", path: path, envSecret: "secret-test-env", wantID: "project-test-from-file", wantSecret: "secret-test-env"},
		{name: "environment overrides the id", path: path, envID: "project-test-env", wantID: "project-test-env", wantSecret: "secret-test-from-file"},
		{name: "environment alone", path: filepath.Join(t.TempDir(), "missing"), envID: "project-test-env", envSecret: "secret-test-env",
			wantID: "project-test-env", wantSecret: "secret-test-env"},
		{name: "no file, half the environment", path: filepath.Join(t.TempDir(), "missing"), envID: "project-test-env", want: "not found: run make dev first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(keyProjectID, tt.envID)
			t.Setenv(keySecret, tt.envSecret)
			id, secret, err := credentials(tt.path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("credentials: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("credentials error = %v, want one with %q", err, tt.want)
			case id != tt.wantID || secret != tt.wantSecret:
				t.Fatalf("credentials = %q, %q; want %q, %q", id, secret, tt.wantID, tt.wantSecret)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunServes runs the command against the engine, its credentials in
// a dev vars file: it redirects a visitor without a session to the login
// page, greets one with a session, and stops on SIGINT.
func TestRunServes(t *testing.T) {
	edge := testharness.Start(t)
	t.Setenv(keyProjectID, "")
	t.Setenv(keySecret, "")
	vars := filepath.Join(t.TempDir(), ".dev.vars")
	content := fmt.Sprintf("LATCH_PROJECT_ID=%q\nLATCH_PROJECT_SECRET=%q\n", edge.ProjectID, edge.Secret)
	if err := os.WriteFile(vars, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"-addr", "127.0.0.1:0", "-latch-url", edge.URL, "-dev-vars", vars}, &stdout, &stderr)
	}()
	banner := regexp.MustCompile(`latch-example-origin: serving (http://127\.0\.0\.1:\d+) \(sign-in at (\S+)\)\n`)
	var self, login string
	for deadline := time.Now().Add(time.Minute); self == ""; {
		if m := banner.FindStringSubmatch(stdout.String()); m != nil {
			self, login = m[1], m[2]
			break
		}
		select {
		case c := <-code:
			t.Fatalf("run exited %d before serving; stderr: %s", c, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("run did not start; stdout: %s stderr: %s", stdout.String(), stderr.String())
		}
	}
	if login != edge.URL+"/login" {
		t.Fatalf("sign-in at %q, want %q", login, edge.URL+"/login")
	}

	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(cookie *http.Cookie) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, self+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	resp, _ := get(nil)
	wantLoc := edge.URL + "/login?return_to=" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(self+"/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantLoc {
		t.Fatalf("GET / = %d, Location %q; want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), wantLoc)
	}

	// The session token always goes to the edge, with the secret.
	c := apitest.Client{URL: edge.URL, ProjectID: edge.ProjectID, Secret: edge.Secret, HTTP: http.DefaultClient}
	s := c.MustPost(t, "/v1/passwords", map[string]any{
		"email": "cmd@example.com", "password": "Latch-example-origin-8d1f-pw", "session_duration_minutes": 60,
	})
	resp, body := get(&http.Cookie{Name: "stytch_session", Value: s["session_token"].(string)})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed in as cmd@example.com") {
		t.Fatalf("GET / signed in = %d; body %s", resp.StatusCode, body)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Fatalf("run exited %d after SIGINT, want 0; stderr: %s", c, stderr.String())
	}
	if !strings.Contains(stdout.String(), "latch-example-origin: stopping") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), edge.Secret) {
		t.Fatal("the secret was printed")
	}
}
