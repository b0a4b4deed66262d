package wazerohost

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// serveDirect asks s for an unknown user through ServeHTTP, not over the
// network, so that an answer is seen even while and after s closes its
// listener and connections.
func serveDirect(s *Server) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodGet, "/v1/users/"+unknownUser, nil)
	req.SetBasicAuth(s.ProjectID, s.Secret)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// TestCloseWaitsForRequests closes a server while a request is inside its
// guest, held in a host call: Close waits for that request, which is
// answered in full, and a request after Close is answered 503 by the
// host.
func TestCloseWaitsForRequests(t *testing.T) {
	var hold atomic.Bool
	inside, release := make(chan struct{}, 1), make(chan struct{})
	s, err := newServer(Config{Instances: 1, beforeCall: func(context.Context, api.Module) {
		if hold.CompareAndSwap(true, false) {
			inside <- struct{}{}
			<-release
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		out    map[string]any
	}
	answered := make(chan answer, 1)
	hold.Store(true)
	go func() {
		status, out := serveDirect(s)
		answered <- answer{status, out}
	}()
	<-inside
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		// The runtime is closed under a call still running; the call
		// stays held rather than run on in a closed module.
		t.Fatalf("Close returned (%v) while a request was inside the guest", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if a := <-answered; a.status != http.StatusNotFound || a.out["error_type"] != "user_not_found" {
		t.Errorf("request inside the guest at Close: %d %v; want 404 user_not_found", a.status, a.out)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	status, out := serveDirect(s)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("request after Close: %d %v; want 503", status, out)
	}
	wantEnvelope(t, s, status, out, "service_unavailable")
}

// TestCloseUnderLoad closes a server while requests stream into it: each
// is answered by the engine (404) or, once Close has begun, refused by
// the host (503); none fails half way (500) and none that starts after
// Close has returned reaches the engine. Under -race it also checks that
// Close does not free the guest's resources under a running call.
func TestCloseUnderLoad(t *testing.T) {
	s, err := newServer(Config{Instances: 2})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	var (
		engineAnswers atomic.Int64
		afterClose    atomic.Bool // set once Close has returned
		failures      atomic.Int64
		wg            sync.WaitGroup
	)
	report := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	for range workers {
		wg.Go(func() {
			for {
				late := afterClose.Load()
				status, out := serveDirect(s)
				switch {
				case status == http.StatusNotFound && out["error_type"] == "user_not_found":
					if late {
						report("a request started after Close reached the engine")
					}
					engineAnswers.Add(1)
				case status == http.StatusServiceUnavailable && out["error_type"] == "service_unavailable":
					if late {
						return
					}
				default:
					report("request around Close: %d %v", status, out)
					if late {
						return
					}
				}
			}
		})
	}
	for engineAnswers.Load() < 3*workers {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	afterClose.Store(true)
	wg.Wait()
}
