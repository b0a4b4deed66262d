package conformance_test

import (
	"path/filepath"
	"testing"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestBrokenExpectationFails runs the native engine's and the wazero host's
// conformance tests with a deliberately wrong expectation added and checks
// that each fails there. The workerd host's self-test is in edge/internal/e2e
// (TestConformanceSelfTest), beside the Worker it starts.
func TestBrokenExpectationFails(t *testing.T) {
	for name, dir := range map[string]string{
		"native": "../../wasm/engine",
		"wazero": "..",
	} {
		t.Run(name, func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			conformance.CheckSelfTest(t, abs)
		})
	}
}
