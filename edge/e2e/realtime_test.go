//go:build !js

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestRealTimeLifecycle covers on workerd the cases of the conformance
// suite that need time to pass, by waiting on the real clock. It runs in
// parallel with the package's other parallel tests.
func TestRealTimeLifecycle(t *testing.T) {
	t.Parallel()
	w := StartTest(t, Options{})
	conformance.RunRealTime(t, conformance.Target{
		BaseURL:   w.BaseURL,
		ProjectID: w.ProjectID,
		Secret:    w.Secret,
		Client:    &http.Client{Timeout: 30 * time.Second},
	})
}
