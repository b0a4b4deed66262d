package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
		msg  string // in stderr
	}{
		{name: "help", args: []string{"-h"}, want: 0},
		{name: "unknown flag", args: []string{"-bogus"}, want: 2},
		{name: "extra argument", args: []string{"serve"}, want: 2},
		{name: "bad port", args: []string{"-port", "70000"}, want: 2},
		{name: "no database", args: []string{"-db", ""}, want: 2, msg: "-db names the SQLite file"},
		{name: "two transports", args: []string{"-smtp", "127.0.0.1:25", "-webhook-url", "http://127.0.0.1/mail"}, want: 2, msg: "two transports; pick one"},
		{name: "smtp user without smtp", args: []string{"-smtp-user", "u"}, want: 2, msg: "-smtp-user and -smtp-require-tls need -smtp"},
		{name: "require tls without smtp", args: []string{"-smtp-require-tls"}, want: 2, msg: "-smtp-user and -smtp-require-tls need -smtp"},
		{name: "smtp address without port", args: []string{"-smtp", "mail.example.com"}, want: 2, msg: "-smtp \"mail.example.com\": address mail.example.com: missing port in address"},
		{name: "smtp user without password", args: []string{"-smtp", "127.0.0.1:25", "-smtp-user", "u"}, want: 2, msg: "-smtp-user needs the password in $LATCH_SMTP_PASSWORD"},
		{name: "dev mailbox with a transport", args: []string{"-smtp", "127.0.0.1:25", "-mailbox", "127.0.0.1:8025"}, want: 2, msg: "-mailbox is the dev mailbox, used only without -smtp or -webhook-url"},
		{name: "webhook without secret", args: []string{"-webhook-url", "https://mail.example.com/hook"}, want: 2, msg: "needs a secret of at least 32 bytes in $LATCH_MAIL_WEBHOOK_SECRET (it has 0)"},
		{name: "webhook over http off loopback", args: []string{"-webhook-url", "http://mail.example.com/hook"}, env: map[string]string{webhookSecretEnv: strings.Repeat("s", 32)}, want: 2, msg: "want an https URL, or http on loopback"},
		{name: "webhook secret too short", args: []string{"-webhook-url", "https://mail.example.com/hook"}, env: map[string]string{webhookSecretEnv: strings.Repeat("s", 31)}, want: 2, msg: "(it has 31)"},
		{name: "sdk origin with a path", args: []string{"-sdk-origin", "http://127.0.0.1:3000/app"}, want: 2, msg: `-sdk-origin: origin "http://127.0.0.1:3000/app" is not scheme://host[:port]`},
		{name: "sdk origin without scheme", args: []string{"-sdk-origin", "http://localhost:3000", "-sdk-origin", "localhost:3000"}, want: 2, msg: `origin "localhost:3000"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(smtpPasswordEnv, "")
			t.Setenv(webhookSecretEnv, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), "-port") {
				t.Errorf("usage not printed: %q", stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.msg)
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

// start runs the command until stop is called and returns what it printed
// once it serves.
func start(t *testing.T, args ...string) (fields map[string]string, stop func() int) {
	t.Helper()
	return startOut(t, &syncBuffer{}, args...)
}

// startOut is start with run's standard output in stdout.
func startOut(t *testing.T, stdout *syncBuffer, args ...string) (fields map[string]string, stop func() int) {
	t.Helper()
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(args, stdout, &stderr) }()
	re := regexp.MustCompile(`(?m)^(latch-local: serving|project_id:|secret:|public_token:|jwks:|mailbox:|mail:|database:)\s*(.+)$`)
	deadline := time.Now().Add(5 * time.Minute) // the first run may build the guest
	for {
		// run prints its banner in one write, database last.
		if out := stdout.String(); strings.Contains(out, "\ndatabase:") {
			fields = map[string]string{}
			for _, kv := range re.FindAllStringSubmatch(out, -1) {
				fields[kv[1]] = kv[2]
			}
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
	return fields, func() int {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		return <-code
	}
}

func request(t *testing.T, f map[string]string, method, path, body string) (int, map[string]any) {
	t.Helper()
	c := apitest.Client{URL: f["latch-local: serving"], ProjectID: f["project_id:"], Secret: f["secret:"], HTTP: http.DefaultClient}
	var b any
	if body != "" {
		b = body
	}
	status, out, err := c.Do(context.Background(), method, path, b)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

func TestRunServesAndKeepsState(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state", "latch.db")

	first, stop := start(t, "-port", "0", "-db", db, "-mailbox", "off")
	status, user := request(t, first, "POST", "/v1/users", `{"email":"local@example.com"}`)
	if status != http.StatusOK {
		t.Fatalf("create user: %d %v", status, user)
	}
	if code := stop(); code != 0 {
		t.Fatalf("run exited %d after SIGINT, want 0", code)
	}
	boxKey, err := os.ReadFile(filepath.Join(dir, "state", "secret-box.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"credentials.json", "signing-keys.json", "secret-box.key"} {
		fi, err := os.Stat(filepath.Join(dir, "state", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	cred := readCredentials(t, filepath.Join(dir, "state", "credentials.json"))
	if !strings.HasPrefix(first["public_token:"], "public-token-test-") || cred["public_token"] != first["public_token:"] {
		t.Errorf("banner public_token %q, credentials.json %q", first["public_token:"], cred["public_token"])
	}

	second, stop := start(t, "-port", "0", "-db", db, "-mailbox", "off")
	defer stop()
	if second["project_id:"] != first["project_id:"] || second["secret:"] != first["secret:"] ||
		second["public_token:"] != first["public_token:"] {
		t.Fatalf("credentials changed across restarts: %v then %v", first, second)
	}
	if again, err := os.ReadFile(filepath.Join(dir, "state", "secret-box.key")); err != nil || !bytes.Equal(again, boxKey) {
		t.Fatalf("secret-box.key changed across restarts (%v)", err)
	}
	status, got := request(t, second, "GET", "/v1/users/"+user["user_id"].(string), "")
	if status != http.StatusOK || got["user_id"] != user["user_id"] {
		t.Fatalf("user after restart: %d %v", status, got)
	}
	resp, err := http.Get(second["jwks:"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %d", resp.StatusCode)
	}
}

// readCredentials decodes the credentials.json at path.
func readCredentials(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestRunFilesPrivate checks that every file latch-local creates on a
// fresh directory is 0600 in a 0700 directory, while it serves and after.
func TestRunFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh", "state")
	f, stop := start(t, "-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off")
	if status, out := request(t, f, "POST", "/v1/users", `{"email":"modes@example.com"}`); status != http.StatusOK {
		t.Fatalf("create user: %d %v", status, out)
	}
	check := func(when string) {
		t.Helper()
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: directory %s: %v %v, want 0700", when, d, fi.Mode().Perm(), err)
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			seen[e.Name()] = true
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s mode %v, want 0600", when, e.Name(), fi.Mode().Perm())
			}
		}
		for _, name := range []string{"latch.db", "latch.db-wal", "credentials.json", "signing-keys.json", "secret-box.key"} {
			if !seen[name] {
				t.Errorf("%s: %s missing; have %v", when, name, seen)
			}
		}
	}
	check("serving")
	if code := stop(); code != 0 {
		t.Fatalf("run exited %d after SIGINT, want 0", code)
	}
	check("stopped")
}
