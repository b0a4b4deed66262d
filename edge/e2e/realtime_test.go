//go:build !js

package e2e

import (
	"testing"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestRealTimeLifecycle covers on workerd the cases of the conformance
// suite that need time to pass, by waiting on the real clock. It runs in
// parallel with the package's other parallel tests.
func TestRealTimeLifecycle(t *testing.T) {
	t.Parallel()
	conformance.RunRealTime(t, conformanceTarget(StartTest(t, Options{})))
}
