//go:build !js

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestConformance runs the shared HTTP conformance suite against the Worker
// on workerd. The clock is real, so cases that need time to pass report
// themselves skipped here; TestRealTimeLifecycle covers them by waiting.
func TestConformance(t *testing.T) {
	t.Parallel()
	w := StartTest(t, Options{})
	conformance.Run(t, conformance.Target{
		BaseURL:   w.BaseURL,
		ProjectID: w.ProjectID,
		Secret:    w.Secret,
		Client:    &http.Client{Timeout: 30 * time.Second},
	})
}
