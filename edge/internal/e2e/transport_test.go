//go:build !js

package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTransportSendsAgainOnlyWhatWasLost checks Transport against a server
// that answers as wrangler's proxy does when its request to the Worker was
// lost: a POST is sent again with its body, at most three times in all, and
// any other 503 is the caller's, body whole.
func TestTransportSendsAgainOnlyWhatWasLost(t *testing.T) {
	var calls atomic.Int32
	lose := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.URL.Path == "/other":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status_code":503,"error_type":"mail_unavailable"}`)
		case lose.Add(-1) >= 0:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "Your worker restarted mid-request. Please try sending the request again. Only GET or HEAD requests are retried automatically.")
		default:
			_, _ = w.Write(body)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: Transport()}
	post := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Post(srv.URL+path, "application/json", strings.NewReader(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	calls.Store(0)
	lose.Store(2)
	if status, body := post("/"); status != http.StatusOK || body != `{"n":1}` || calls.Load() != 3 {
		t.Errorf("two lost, then answered: %d %q after %d sends, want 200 with the body after 3", status, body, calls.Load())
	}
	calls.Store(0)
	lose.Store(5)
	if status, body := post("/"); status != http.StatusServiceUnavailable || !strings.HasPrefix(body, "Your worker restarted") || calls.Load() != 3 {
		t.Errorf("always lost: %d %q after %d sends, want the 503 after 3", status, body, calls.Load())
	}
	calls.Store(0)
	lose.Store(0)
	if status, body := post("/other"); status != http.StatusServiceUnavailable || body != `{"status_code":503,"error_type":"mail_unavailable"}` || calls.Load() != 1 {
		t.Errorf("another 503: %d %q after %d sends, want it whole after 1", status, body, calls.Load())
	}
}
