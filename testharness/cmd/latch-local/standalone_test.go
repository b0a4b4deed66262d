package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStandaloneBinary builds latch-local as `go install` does and runs it
// from a directory outside the module, with no Go toolchain on its PATH:
// the binary carries everything it needs. It waits for the ready banner,
// calls the API, and stops it with SIGINT.
func TestStandaloneBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "latch-local")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	if module, err := filepath.Abs("../../.."); err != nil {
		t.Fatal(err)
	} else if rel, err := filepath.Rel(module, work); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("working directory %s is inside the module %s", work, module)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-port", "0", "-db", "latch.db", "-mailbox", "127.0.0.1:0")
	cmd.Dir = work
	cmd.Env = []string{"PATH=", "HOME=" + work, "XDG_CACHE_HOME=" + filepath.Join(work, "cache")}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	banner := make(chan map[string]string, 1)
	rest := make(chan string, 1)
	go func() {
		// The banner comes in one write, database last; what follows is
		// kept for after the stop.
		re := regexp.MustCompile(`^(latch-local: serving|project_id:|secret:|jwks:|mailbox:|database:)\s*(.+)$`)
		fields := map[string]string{}
		for lines.Scan() {
			if kv := re.FindStringSubmatch(lines.Text()); kv != nil {
				fields[kv[1]] = kv[2]
				if kv[1] == "database:" {
					banner <- fields
					break
				}
			}
		}
		tail, _ := io.ReadAll(stdout)
		rest <- string(tail)
		exited <- cmd.Wait()
	}()

	var f map[string]string
	select {
	case f = <-banner:
	case <-rest:
		t.Fatalf("latch-local exited before serving: %v; stderr: %s", <-exited, stderr.String())
	case <-ctx.Done():
		t.Fatalf("latch-local did not serve in time; stderr: %s", stderr.String())
	}
	if f["database:"] != "latch.db" || f["mailbox:"] == "" {
		t.Errorf("banner %v: want database latch.db and a mailbox", f)
	}
	if status, out := request(t, f, "POST", "/v1/users", `{"email":"standalone@example.com"}`); status != http.StatusOK {
		t.Fatalf("create user: %d %v", status, out)
	}
	resp, err := http.Get(f["jwks:"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %d", resp.StatusCode)
	}
	for _, name := range []string{"latch.db", "credentials.json", "signing-keys.json", "secret-box.key"} {
		if _, err := os.Stat(filepath.Join(work, name)); err != nil {
			t.Errorf("not in the working directory: %v", err)
		}
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var tail string
	select {
	case tail = <-rest:
	case <-ctx.Done():
		t.Fatalf("latch-local did not stop after SIGINT; stderr: %s", stderr.String())
	}
	if err := <-exited; err != nil {
		t.Fatalf("latch-local exited with %v after SIGINT, want 0; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(tail, "latch-local: stopping") {
		t.Errorf("stdout after SIGINT %q, want latch-local: stopping", tail)
	}
}
