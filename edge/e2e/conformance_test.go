//go:build !js

package e2e

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/wasm/keys"
)

// TestConformance runs the shared HTTP conformance suite against the Worker
// on workerd. The clock is real, so cases that need time to pass report
// themselves skipped here; TestRealTimeLifecycle covers them by waiting.
func TestConformance(t *testing.T) {
	t.Parallel()
	conformance.Run(t, conformanceTarget(Start(t, Options{})))
}

// conformanceTarget describes w to the conformance suite. The clock is the
// real one, so Advance stays nil.
func conformanceTarget(w *Worker) conformance.Target {
	return conformance.Target{
		URL:       w.URL,
		ProjectID: w.ProjectID,
		Secret:    w.Secret,
		Client:    &http.Client{Timeout: 30 * time.Second},
		// A rotation restarts the Worker with the rotated key set, as
		// `wrangler secret put LATCH_SIGNING_KEYS` does to a deployment.
		RotateKeys: func(t *testing.T) {
			ks, err := keys.Rotate(w.Keys, rand.Reader, "test", time.Now().Unix(), 0)
			if err == nil {
				err = w.Restart(context.Background(), ks)
			}
			if err != nil {
				t.Fatal(err)
			}
		},
	}
}
