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
		{name: "help names the SDK", args: []string{"-h"}, want: 0, msg: "-sdk-js string"},
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
			t.Setenv(keyPublicToken, "")
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
LATCH_PUBLIC_TOKEN=public-token-test-from-file
LATCH_SIGNING_KEYS='{"keys":[]}'

LATCH_MAIL=webhook
`
	path := filepath.Join(t.TempDir(), ".dev.vars")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                          string
		path                          string
		envID, envSecret, envToken    string
		wantID, wantSecret, wantToken string
		want                          string // in the error; empty for none
	}{
		{name: "file", path: path, wantID: "project-test-from-file", wantSecret: "secret-test-from-file", wantToken: "public-token-test-from-file"},
		{name: "environment overrides the secret", path: path, envSecret: "secret-test-env",
			wantID: "project-test-from-file", wantSecret: "secret-test-env", wantToken: "public-token-test-from-file"},
		{name: "environment overrides the id", path: path, envID: "project-test-env",
			wantID: "project-test-env", wantSecret: "secret-test-from-file", wantToken: "public-token-test-from-file"},
		{name: "environment overrides the token", path: path, envToken: "public-token-test-env",
			wantID: "project-test-from-file", wantSecret: "secret-test-from-file", wantToken: "public-token-test-env"},
		{name: "environment alone", path: filepath.Join(t.TempDir(), "missing"), envID: "project-test-env", envSecret: "secret-test-env", envToken: "public-token-test-env",
			wantID: "project-test-env", wantSecret: "secret-test-env", wantToken: "public-token-test-env"},
		// The file's token is another project's.
		{name: "credentials from the environment, not the file's token", path: path, envID: "project-test-env", envSecret: "secret-test-env",
			wantID: "project-test-env", wantSecret: "secret-test-env"},
		{name: "no file, half the environment", path: filepath.Join(t.TempDir(), "missing"), envID: "project-test-env", want: "not found: run make dev first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(keyProjectID, tt.envID)
			t.Setenv(keySecret, tt.envSecret)
			t.Setenv(keyPublicToken, tt.envToken)
			got, err := credentials(tt.path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("credentials: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("credentials error = %v, want one with %q", err, tt.want)
			case got.projectID != tt.wantID || got.secret != tt.wantSecret || got.publicToken != tt.wantToken:
				t.Fatalf("credentials = %q, %q, %q; want %q, %q, %q",
					got.projectID, got.secret, got.publicToken, tt.wantID, tt.wantSecret, tt.wantToken)
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

// TestSDKConfig checks where the command looks for the SDK, and what it
// says when the SDK sign-in is off.
func TestSDKConfig(t *testing.T) {
	const token, latch = "public-token-test-x", "http://127.0.0.1:8787"
	near := t.TempDir() // the dev vars file's directory
	cwd := t.TempDir()  // the working directory
	elsewhere := t.TempDir()
	write := func(dir, content string) string {
		p := filepath.Join(dir, defaultSDKJS)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(near, "/* near */")
	write(cwd, "/* cwd */")
	abs := filepath.Join(elsewhere, "sdk.js")
	if err := os.WriteFile(abs, []byte("/* absolute */"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	tests := []struct {
		name       string
		token      string
		js         string
		devVars    string
		wantScript string // empty: off
		wantSays   string // on stderr; empty: nothing
	}{
		{name: "next to the dev vars", token: token, js: defaultSDKJS, devVars: filepath.Join(near, ".dev.vars"), wantScript: "/* near */"},
		{name: "in the working directory", token: token, js: defaultSDKJS, devVars: filepath.Join(elsewhere, ".dev.vars"), wantScript: "/* cwd */"},
		{name: "dev vars in the working directory", token: token, js: defaultSDKJS, devVars: ".dev.vars", wantScript: "/* cwd */"},
		{name: "absolute", token: token, js: abs, devVars: filepath.Join(near, ".dev.vars"), wantScript: "/* absolute */"},
		{name: "missing", token: token, js: "missing.js", devVars: filepath.Join(near, ".dev.vars"),
			wantSays: "latch-example-origin: sdk sign-in off: " + filepath.Join(near, "missing.js") + " or missing.js not found (npm ci installs it)\n"},
		{name: "a directory", token: token, js: elsewhere, devVars: ".dev.vars",
			wantSays: "latch-example-origin: sdk sign-in off: read " + elsewhere + ": is a directory\n"},
		{name: "no token", js: defaultSDKJS, devVars: filepath.Join(near, ".dev.vars"),
			wantSays: "latch-example-origin: sdk sign-in off: no LATCH_PUBLIC_TOKEN in " + filepath.Join(near, ".dev.vars") + " or the environment (make dev adds it)\n"},
		{name: "turned off", token: token, js: "", devVars: filepath.Join(near, ".dev.vars")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got := sdkConfig(tt.token, latch, tt.js, tt.devVars, &stderr)
			if stderr.String() != tt.wantSays {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantSays)
			}
			switch {
			case tt.wantScript == "" && got != nil:
				t.Fatalf("sdkConfig = %+v, want nil", got)
			case tt.wantScript != "" && (got == nil || string(got.Script) != tt.wantScript || got.PublicToken != token || got.LatchURL != latch):
				t.Fatalf("sdkConfig = %+v, want the script %q", got, tt.wantScript)
			}
		})
	}
}

// running is the command running in this process.
type running struct {
	self, login    string // the origin's URL, the login page's
	stdout, stderr *syncBuffer
	code           chan int
}

// start runs the command with args until stop.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	r := &running{stdout: &syncBuffer{}, stderr: &syncBuffer{}, code: make(chan int, 1)}
	go func() { r.code <- run(args, r.stdout, r.stderr) }()
	banner := regexp.MustCompile(`latch-example-origin: serving (http://127\.0\.0\.1:\d+) \(sign-in at (\S+)\)\n`)
	for deadline := time.Now().Add(time.Minute); ; {
		if m := banner.FindStringSubmatch(r.stdout.String()); m != nil {
			r.self, r.login = m[1], m[2]
			return r
		}
		select {
		case c := <-r.code:
			t.Fatalf("run exited %d before serving; stderr: %s", c, r.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("run did not start; stdout: %s stderr: %s", r.stdout.String(), r.stderr.String())
		}
	}
}

// stop sends SIGINT and checks that the command stops cleanly.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if c := <-r.code; c != 0 {
		t.Fatalf("run exited %d after SIGINT, want 0; stderr: %s", c, r.stderr.String())
	}
	if !strings.Contains(r.stdout.String(), "latch-example-origin: stopping") {
		t.Fatalf("stdout %q", r.stdout.String())
	}
}

// get sends GET path to the command's origin with cookie, following no
// redirect.
func (r *running) get(t *testing.T, path string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.self+path, nil)
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

// writeDevVars writes a dev vars file for edge, with the public token
// when given, into a directory of its own, and returns its path.
func writeDevVars(t *testing.T, edge *testharness.Server, publicToken string) string {
	t.Helper()
	t.Setenv(keyProjectID, "")
	t.Setenv(keySecret, "")
	t.Setenv(keyPublicToken, "")
	vars := filepath.Join(t.TempDir(), ".dev.vars")
	content := fmt.Sprintf("LATCH_PROJECT_ID=%q\nLATCH_PROJECT_SECRET=%q\n", edge.ProjectID, edge.Secret)
	if publicToken != "" {
		content += "LATCH_PUBLIC_TOKEN=" + publicToken + "\n"
	}
	if err := os.WriteFile(vars, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return vars
}

// TestRunServes runs the command against the engine, its credentials and
// public token in a dev vars file and the SDK beside it, as `make dev` and
// `npm ci` leave them: it redirects a visitor without a session to the
// login page, greets one with a session, serves the SDK sign-in, and
// stops on SIGINT.
func TestRunServes(t *testing.T) {
	edge := testharness.Start(t)
	const publicToken = "public-token-test-0c4f3a2e-5b6d-4e7f-8a9b-1c2d3e4f5a6b"
	vars := writeDevVars(t, edge, publicToken)
	const sdkJS = "/* the SDK */ var stytch = {};\n"
	js := filepath.Join(filepath.Dir(vars), defaultSDKJS)
	if err := os.MkdirAll(filepath.Dir(js), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(js, []byte(sdkJS), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, "-addr", "127.0.0.1:0", "-latch-url", edge.URL, "-dev-vars", vars)
	if r.login != edge.URL+"/login" {
		t.Fatalf("sign-in at %q, want %q", r.login, edge.URL+"/login")
	}

	resp, _ := r.get(t, "/", nil)
	wantLoc := edge.URL + "/login?return_to=" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(r.self+"/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantLoc {
		t.Fatalf("GET / = %d, Location %q; want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), wantLoc)
	}

	// The session token always goes to the edge, with the secret.
	c := apitest.Client{URL: edge.URL, ProjectID: edge.ProjectID, Secret: edge.Secret, HTTP: http.DefaultClient}
	s := c.MustPost(t, "/v1/passwords", map[string]any{
		"email": "cmd@example.com", "password": "Latch-example-origin-8d1f-pw", "session_duration_minutes": 60,
	})
	resp, body := r.get(t, "/", &http.Cookie{Name: "stytch_session", Value: s["session_token"].(string)})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed in as cmd@example.com") {
		t.Fatalf("GET / signed in = %d; body %s", resp.StatusCode, body)
	}

	resp, body = r.get(t, "/sdk-login", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-public-token="`+publicToken+`"`) ||
		!strings.Contains(body, `data-latch-url="`+edge.URL+`"`) {
		t.Fatalf("GET /sdk-login = %d; body %s", resp.StatusCode, body)
	}
	if resp, body = r.get(t, "/sdk/stytch.js", nil); resp.StatusCode != http.StatusOK || body != sdkJS {
		t.Fatalf("GET /sdk/stytch.js = %d, %q; want the SDK file", resp.StatusCode, body)
	}

	r.stop(t)
	if want := "latch-example-origin: sdk sign-in at " + r.self + "/sdk-login\n"; !strings.Contains(r.stdout.String(), want) {
		t.Errorf("stdout %q does not say %q", r.stdout.String(), want)
	}
	if strings.Contains(r.stderr.String(), "sdk sign-in off") {
		t.Errorf("stderr %q", r.stderr.String())
	}
	if strings.Contains(r.stdout.String()+r.stderr.String(), edge.Secret) {
		t.Fatal("the secret was printed")
	}
}

// TestRunWithoutSDK runs the command with a public token but no SDK where
// it looks: it says once why the SDK sign-in is off and serves without it.
func TestRunWithoutSDK(t *testing.T) {
	edge := testharness.Start(t)
	vars := writeDevVars(t, edge, "public-token-test-0c4f3a2e-5b6d-4e7f-8a9b-1c2d3e4f5a6b")
	t.Chdir(filepath.Dir(vars))
	r := start(t, "-addr", "127.0.0.1:0", "-latch-url", edge.URL, "-dev-vars", vars)
	if resp, body := r.get(t, "/sdk-login", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /sdk-login = %d, want 404; body %s", resp.StatusCode, body)
	}
	if resp, _ := r.get(t, "/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET / = %d, want 303", resp.StatusCode)
	}
	r.stop(t)
	// The working directory is the file's: one place to look.
	want := "latch-example-origin: sdk sign-in off: " + filepath.Join(filepath.Dir(vars), defaultSDKJS) + " not found (npm ci installs it)\n"
	if got := r.stderr.String(); strings.Count(got, "sdk sign-in off") != 1 || !strings.Contains(got, want) {
		t.Errorf("stderr %q, want %q once", got, want)
	}
	if strings.Contains(r.stdout.String(), "sdk sign-in at") {
		t.Errorf("stdout %q names an SDK sign-in", r.stdout.String())
	}
}
