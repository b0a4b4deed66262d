//go:build !js

package e2e

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestGoStartsWithTheIsolate checks that the Worker starts Go while its
// isolate starts (worker.mjs, startEarly), not on the first request: a
// Worker missing a setting says so in its log before anything is sent to
// it, which only a Go already running can do; and a well-configured
// Worker's first request is answered by the Go started then, the glue
// never falling back to a start on the request.
func TestGoStartsWithTheIsolate(t *testing.T) {
	vars, _, err := freshVars()
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]string{}
	for k, v := range vars {
		if k != "LATCH_PROJECT_SECRET" {
			broken[k] = v
		}
	}
	logOf := func(t *testing.T) (*syncBuffer, io.Writer) {
		log := &syncBuffer{}
		if testing.Verbose() {
			return log, io.MultiWriter(log, testLog{t})
		}
		return log, log
	}
	const fallback = "did not start with the isolate"

	t.Run("before any request", func(t *testing.T) {
		log, w := logOf(t)
		Start(t, Options{Vars: broken, Log: w, Untouched: true})
		deadline := time.Now().Add(time.Minute)
		for !log.hasLine("misconfigured", "LATCH_PROJECT_SECRET") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if !log.hasLine("misconfigured", "LATCH_PROJECT_SECRET") {
			t.Fatalf("no request sent, and no log line says the Worker is misconfigured: Go did not start with the isolate\n%s", log)
		}
		if log.hasLine(fallback) {
			t.Errorf("the glue says Go did not start with the isolate:\n%s", log)
		}
	})

	t.Run("first request", func(t *testing.T) {
		log, w := logOf(t)
		wk := Start(t, Options{Vars: vars, Log: w, Untouched: true})
		resp, err := (&http.Client{Timeout: time.Minute}).Get(wk.URL + "/v1/sessions/jwks/" + wk.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the first request: %d, want 200", resp.StatusCode)
		}
		if log.hasLine(fallback) {
			t.Errorf("the glue says Go did not start with the isolate:\n%s", log)
		}
	})
}
