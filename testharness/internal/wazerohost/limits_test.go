package wazerohost

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/latchauth/latch/wasm/guest/wire"
)

// unknownUser is a well-formed user id no test creates.
var unknownUser = "user-test-" + uuid.NewString()

// syncBuffer is a strings.Builder safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// rawCall makes an authenticated request and returns the status and the
// decoded body, or a decode error in its place.
func rawCall(s *Server, method, url string, header http.Header, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.SetBasicAuth(s.ProjectID, s.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%w: %.200q", err, raw)
	}
	return resp.StatusCode, out, nil
}

// wantEnvelope checks a host-written Stytch error.
func wantEnvelope(t *testing.T, s *Server, status int, out map[string]any, errorType string) {
	t.Helper()
	if out["status_code"] != float64(status) || out["error_type"] != errorType {
		t.Fatalf("got %v, want status_code %d error_type %q", out, status, errorType)
	}
	if want := fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", status, errorType); out["error_url"] != want {
		t.Errorf("error_url = %v, want %s", out["error_url"], want)
	}
	if id, _ := out["request_id"].(string); !strings.HasPrefix(id, "request-id-test-") {
		t.Errorf("request_id = %v", out["request_id"])
	}
	if msg, _ := out["error_message"].(string); msg == "" {
		t.Errorf("no error_message in %v", out)
	}
}

func TestLongTargetGets414(t *testing.T) {
	var stderr syncBuffer
	s, err := newServer(Config{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	long := "/v1/users/" + strings.Repeat("a", 70<<10)
	for _, target := range []string{long, "/v1/users/x?q=" + strings.Repeat("b", 70<<10)} {
		status, out, err := rawCall(s, "GET", s.URL+target, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusRequestURITooLong {
			t.Fatalf("70 KB target: status %d %v", status, out)
		}
		wantEnvelope(t, s, status, out, "uri_too_long")
	}
	// A target at the bound still reaches the engine.
	target := "/v1/users/" + unknownUser + "?pad="
	target += strings.Repeat("a", maxTarget-len(target))
	status, out, err := rawCall(s, "GET", s.URL+target, nil, "")
	if err != nil || status != http.StatusNotFound {
		t.Fatalf("target of maxTarget bytes: %d %v %v", status, out, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(stderr.String()); n > 2*maxLogLine {
		t.Errorf("log grew by %d bytes for long targets: %.300q", n, stderr.String())
	}
}

func TestHugeHeadersGet431(t *testing.T) {
	s := start(t)
	h := http.Header{"X-Big": {strings.Repeat("h", 200<<10)}}
	status, _, _ := rawCall(s, "GET", s.URL+"/v1/users/user-test-x", h, "")
	if status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KB header: status %d, want 431", status)
	}
}

// TestHostLogClipped makes the host log a failure (a config the guest
// refuses, as in TestRejectedConfig) for a request with a long path and
// checks the line stays short and on one line.
func TestHostLogClipped(t *testing.T) {
	var stderr syncBuffer
	s, err := newServer(Config{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.config = wire.AppendConfig(nil, &wire.Config{ProjectID: s.ProjectID, Secret: s.Secret, KeyID: "jwk-test-missing"})
	s.gen++
	s.mu.Unlock()
	path := "/v1/users/" + strings.Repeat("p", maxTarget-100) + "%0Aforged"
	status, out, err := rawCall(s, "GET", s.URL+path, nil, "")
	if err != nil || status != http.StatusInternalServerError {
		t.Fatalf("status %d %v %v", status, out, err)
	}
	line := stderr.String()
	if len(line) > 1024 || strings.Count(line, "\n") != 1 || strings.Contains(line, "\nforged") {
		t.Errorf("host log line not clipped to one short line (%d bytes): %.400q", len(line), line)
	}
}

func TestClipWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{name: "short lines", writes: []string{"ab\n", "cd\n"}, want: "ab\ncd\n"},
		{name: "long line", writes: []string{"abcdefgh\nxy\n"}, want: "abcd…(clipped)\nxy\n"},
		{name: "long line over writes", writes: []string{"ab", "cd", "ef", "gh\n"}, want: "abcd…(clipped)\n"},
		{name: "exactly max", writes: []string{"abcd\n"}, want: "abcd\n"},
		{name: "no newline", writes: []string{"abcdefgh"}, want: "abcd…(clipped)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			c := &clipWriter{w: &b, max: 4}
			for _, w := range tt.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestFileStoreDurableAndPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latch.db")
	s, err := newServer(Config{DBPath: path})
	if err != nil {
		t.Fatal(err)
	}
	login(t, s, "durable@example.com")
	// Every pooled connection, not just one, must sync in full.
	ctx := t.Context()
	var conns []interface{ Close() error }
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode int
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Errorf("PRAGMA synchronous = %d, want 2 (FULL)", mode)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	checkModes := func(when string) {
		for _, name := range []string{"latch.db", "latch.db-wal", "latch.db-shm"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v", when, err)
				continue
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s mode %v, want 0600", when, name, fi.Mode().Perm())
			}
		}
	}
	checkModes("serving")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkModes("after close")
}
