package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchauth/latch/edge/e2e"
	"github.com/latchauth/latch/testharness/conformance"
)

// TestBrokenExpectationFails runs each host's conformance test with a
// deliberately wrong expectation added and checks that it fails there: the
// suite can tell a host that misbehaves from one that does not. The workerd
// case needs wrangler and is skipped without it, as the workerd tests
// themselves are (e2e.RequireWrangler): this package needs no Node.
func TestBrokenExpectationFails(t *testing.T) {
	if os.Getenv(conformance.SelfTestEnv) != "" {
		t.Skip("already inside a self-test run")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		pkg      string
		wrangler bool
	}{
		{name: "native", pkg: "./wasm/engine"},
		{name: "wazero", pkg: "./testharness"},
		{name: "workerd", pkg: "./edge/e2e", wrangler: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wrangler {
				e2e.RequireWrangler(t)
			}
			cmd := exec.Command("go", "test", "-count=1", "-run", "^TestConformance$/^selftest/", tc.pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), conformance.SelfTestEnv+"=1")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the broken expectation passed on %s:\n%s", tc.name, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestConformance/selftest/broken_expectation") {
				t.Fatalf("%s failed, but not on the broken expectation:\n%s", tc.name, out)
			}
		})
	}
}
