//go:build !js

package e2e

import (
	"context"
	"os"
	"testing"
)

// StartTest starts a Worker for the test (see Start) and stops it when the
// test ends. Wrangler's output goes to the test log when -v is given or
// LATCH_E2E_LOG=1.
func StartTest(t testing.TB, opts Options) *Worker {
	t.Helper()
	if opts.Log == nil && (testing.Verbose() || os.Getenv("LATCH_E2E_LOG") == "1") {
		opts.Log = testLog{t}
	}
	w, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("wrangler: %s", p)
	return len(p), nil
}
