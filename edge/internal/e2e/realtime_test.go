//go:build !js

package e2e

import (
	"testing"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestRealTimeLifecycle covers on workerd the cases of the conformance
// suite that need time to pass, by waiting on the real clock
// (conformance.RealTimeWait). The wait overlaps the rest of the package:
// every other workerd test is parallel, so the sequential phase is this
// test's alone. It starts its Worker there (with no other Worker starting
// to compete for the CPU), then the checks and their wait in a subtest run
// from its own goroutine (t.Run may be called from any goroutine), and
// pauses in t.Parallel. The subtest neither waits for the sequential phase
// to end nor holds one of the -parallel slots while it sleeps, so the
// package takes about as long as the longer of the wait and the other
// tests.
func TestRealTimeLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skipf("waits %v on the real clock", conformance.RealTimeWait)
	}
	tg := conformanceTarget(Start(t, Options{}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.Run("workerd", func(t *testing.T) { conformance.RunRealTime(t, tg) })
	}()
	t.Parallel()
	<-done
}
