package wazerohost

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// hangingServer returns a server with one instance whose host calls block
// while hang is set: until the call's context is done, or, with
// ignoreCtx, until release is closed. Each blocked module is sent on
// stuck.
func hangingServer(t *testing.T, timeout time.Duration, ignoreCtx bool) (s *Server, hang *atomic.Bool, stuck chan api.Module, release chan struct{}, stderr *syncBuffer) {
	t.Helper()
	hang, stuck, release, stderr = new(atomic.Bool), make(chan api.Module, 4), make(chan struct{}), new(syncBuffer)
	s, err := newServer(Config{Instances: 1, RequestTimeout: timeout, Stderr: stderr,
		beforeCall: func(ctx context.Context, mod api.Module) {
			if !hang.Load() {
				return
			}
			stuck <- mod
			if ignoreCtx {
				<-release
				return
			}
			select {
			case <-ctx.Done():
			case <-release:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hang.Store(false)
		select {
		case <-release:
		default:
			close(release)
		}
		s.Close()
	})
	return s, hang, stuck, release, stderr
}

// timedCall makes a request and checks it is answered within the bound.
func timedCall(t *testing.T, s *Server, bound time.Duration) (int, map[string]any) {
	t.Helper()
	start := time.Now()
	status, out, err := rawCall(s, "GET", s.URL+"/v1/users/"+unknownUser, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > bound+2*time.Second {
		t.Fatalf("answered after %v, bound %v", d, bound)
	}
	return status, out
}

// waitClosed checks that the instance that overran is closed, which
// wazero does from its own goroutine as the request's deadline passes.
func waitClosed(t *testing.T, mod api.Module) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !mod.IsClosed(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Error("the instance that overran was not closed")
			return
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	s, hang, stuck, _, stderr := hangingServer(t, timeout, false)
	hang.Store(true)
	status, out := timedCall(t, s, timeout)
	if status != http.StatusGatewayTimeout {
		t.Fatalf("hung guest: status %d %v", status, out)
	}
	wantEnvelope(t, s, status, out, "gateway_timeout")
	waitClosed(t, <-stuck)
	if !strings.Contains(stderr.String(), "guest did not answer") {
		t.Errorf("no reason logged: %q", stderr.String())
	}
	// The pool replaces the instance: the next request is served.
	hang.Store(false)
	status, out = timedCall(t, s, timeout)
	if status != http.StatusNotFound || out["error_type"] != "user_not_found" {
		t.Fatalf("after a timeout: %d %v", status, out)
	}
	status, user := call(t, s, "POST", "/v1/users", map[string]any{"email": "after-timeout@example.com"})
	mustOK(t, status, user)
}

// TestPoolExhausted holds the only instance in a host call that ignores
// its context: the request overruns (504), the next finds no instance in
// time (503), and once the call returns the pool serves again.
func TestPoolExhausted(t *testing.T) {
	const timeout = 500 * time.Millisecond
	s, hang, stuck, release, _ := hangingServer(t, timeout, true)
	hang.Store(true)
	status, out := timedCall(t, s, timeout)
	if status != http.StatusGatewayTimeout {
		t.Fatalf("stuck host call: status %d %v", status, out)
	}
	waitClosed(t, <-stuck)
	status, out = timedCall(t, s, timeout)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("pool exhausted: status %d %v", status, out)
	}
	wantEnvelope(t, s, status, out, "service_unavailable")

	hang.Store(false)
	close(release)
	status, user := call(t, s, "POST", "/v1/users", map[string]any{"email": "after-stuck@example.com"})
	mustOK(t, status, user)
}
