//go:build !js

package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
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
	shown := testing.Verbose() || os.Getenv("LATCH_E2E_LOG") == "1"
	if opts.Log == nil && shown {
		opts.Log = testLog{t}
	}
	// The end of wrangler's output goes to the log of a test that failed,
	// so that a failure on a shared machine (a Worker that restarted, an
	// error the engine logged) can be read from CI's output.
	tail := &logTail{}
	if opts.Log == nil {
		opts.Log = tail
	} else {
		opts.Log = io.MultiWriter(opts.Log, tail)
	}
	w, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if _, logged := opts.Log.(testLog); t.Failed() && !shown && !logged {
			t.Logf("the end of wrangler's output:\n%s", tail)
		}
	})
	return w
}

// lineBuffer gathers output written in pieces into whole lines.
type lineBuffer struct{ partial []byte }

// add appends p and calls line with each line p completes, without its
// newline.
func (b *lineBuffer) add(p []byte, line func([]byte)) {
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			return
		}
		line(b.partial[:i])
		b.partial = b.partial[i+1:]
	}
}

// logTail keeps the last logTailBytes of what is written to it, and apart
// from them the first maxMarks lines that tell of a reload, a restart or an
// error, however long ago they were written: a busy Worker's request log
// soon pushes them out of the tail.
type logTail struct {
	mu    sync.Mutex
	buf   []byte
	lines lineBuffer
	marks []string // the lines that tell of a reload, a restart or an error
}

const (
	logTailBytes = 16 << 10
	maxMarks     = 64
)

// markers are what wrangler and workerd write when a Worker reloads,
// restarts or fails.
var markers = []string{"Reloading", "restarted", "ERROR", "✘", "uncaught", "Uncaught", "panic:", "fatal"}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if over := len(l.buf) - logTailBytes; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	l.lines.add(p, func(line []byte) {
		if len(l.marks) < maxMarks && slices.ContainsFunc(markers, func(m string) bool { return bytes.Contains(line, []byte(m)) }) {
			l.marks = append(l.marks, string(line))
		}
	})
	if len(l.lines.partial) > logTailBytes {
		l.lines.partial = l.lines.partial[:0] // a line that long is no marker worth keeping
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.marks) == 0 {
		return string(l.buf)
	}
	return "lines that tell of a reload, a restart or an error:\n" + strings.Join(l.marks, "\n") +
		"\n\nthe end of the output:\n" + string(l.buf)
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
