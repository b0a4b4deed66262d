package main

import (
	"bytes"
	"context"
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
		want int
	}{
		{name: "help", args: []string{"-h"}, want: 0},
		{name: "unknown flag", args: []string{"-bogus"}, want: 2},
		{name: "extra argument", args: []string{"serve"}, want: 2},
		{name: "bad port", args: []string{"-port", "70000"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), "-port") {
				t.Errorf("usage not printed: %q", stderr.String())
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
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(args, &stdout, &stderr) }()
	re := regexp.MustCompile(`(?m)^(latch-local: serving|project_id:|secret:|jwks:)\s*(\S+)$`)
	deadline := time.Now().Add(5 * time.Minute) // the first run may build the guest
	for {
		if m := re.FindAllStringSubmatch(stdout.String(), -1); len(m) == 4 {
			fields = map[string]string{}
			for _, kv := range m {
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

	first, stop := start(t, "-port", "0", "-db", db)
	status, user := request(t, first, "POST", "/v1/users", `{"email":"local@example.com"}`)
	if status != http.StatusOK {
		t.Fatalf("create user: %d %v", status, user)
	}
	if code := stop(); code != 0 {
		t.Fatalf("run exited %d after SIGINT, want 0", code)
	}
	for _, name := range []string{"credentials.json", "signing-keys.json"} {
		fi, err := os.Stat(filepath.Join(dir, "state", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	second, stop := start(t, "-port", "0", "-db", db)
	defer stop()
	if second["project_id:"] != first["project_id:"] || second["secret:"] != first["secret:"] {
		t.Fatalf("credentials changed across restarts: %v then %v", first, second)
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

// TestRunFilesPrivate checks that every file latch-local creates on a
// fresh directory is 0600 in a 0700 directory, while it serves and after.
func TestRunFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh", "state")
	f, stop := start(t, "-port", "0", "-db", filepath.Join(dir, "latch.db"))
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
		for _, name := range []string{"latch.db", "latch.db-wal", "credentials.json", "signing-keys.json"} {
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
