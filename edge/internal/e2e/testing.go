//go:build !js

package e2e

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
)

// Start starts a Worker for the test (see New) and stops it when the
// test ends; without wrangler it ends the test first (see RequireWrangler).
// Wrangler's output goes to the test log when -v is given or
// LATCH_E2E_LOG=1.
func Start(t testing.TB, opts Options) *Worker {
	t.Helper()
	RequireWrangler(t)
	if opts.Log == nil && (testing.Verbose() || os.Getenv("LATCH_E2E_LOG") == "1") {
		opts.Log = testLog{t}
	}
	w, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// RequireWrangler ends a test that needs workerd when wrangler is not
// installed under the repository root, before anything slow is done: it
// skips the test, naming `make test`, which installs wrangler; or, when
// CI=true or LATCH_E2E=1 is set, where the workerd tests must run, fails
// it. It returns when wrangler is there.
func RequireWrangler(t testing.TB) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wranglerPath(root); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("LATCH_E2E") == "1" {
			t.Fatalf("%v (CI=true or LATCH_E2E=1: the workerd tests must run)", err)
		}
		t.Skipf("%v (set LATCH_E2E=1 to fail instead)", err)
	}
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("wrangler: %s", p)
	return len(p), nil
}

// syncBuffer collects wrangler's output for a test to search.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hasLine reports whether one line of the output holds every word.
func (b *syncBuffer) hasLine(words ...string) bool {
	for _, line := range strings.Split(b.String(), "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}
