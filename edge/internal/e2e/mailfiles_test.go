//go:build !js

package e2e

import (
	"io"
	"os"
	"regexp"
	"sync"
	"testing"

	"github.com/latchauth/latch/testharness/mailbox"
)

// emlPath matches the file wrangler dev logs for each message the
// send_email binding accepts ("send_email binding called with the following
// message:" and, on the next line, the path of the .eml it wrote).
var emlPath = regexp.MustCompile(`(/\S+\.eml)\b`)

// mailFiles is a wrangler output writer that delivers every message
// wrangler dev's send_email simulation writes into box, parsed from the
// file as a mail client would read it, and passes the output on to next.
type mailFiles struct {
	t    testing.TB
	box  *mailbox.Mailbox
	next io.Writer

	mu    sync.Mutex
	lines lineBuffer
	seen  map[string]bool
}

func newMailFiles(t testing.TB, box *mailbox.Mailbox, next io.Writer) *mailFiles {
	if next == nil {
		next = io.Discard
	}
	return &mailFiles{t: t, box: box, next: next, seen: map[string]bool{}}
}

func (m *mailFiles) Write(p []byte) (int, error) {
	m.mu.Lock()
	m.lines.add(p, func(line []byte) {
		for _, sub := range emlPath.FindAllStringSubmatch(string(line), -1) {
			if !m.seen[sub[1]] {
				m.seen[sub[1]] = true
				m.deliver(sub[1])
			}
		}
	})
	m.mu.Unlock()
	return m.next.Write(p)
}

// deliver parses the .eml file at path into the mailbox; a file that is
// not a readable message is reported and left out, so that the test
// waiting for it fails.
func (m *mailFiles) deliver(path string) {
	f, err := os.Open(path)
	if err != nil {
		m.t.Errorf("e2e: send_email file: %v", err)
		return
	}
	defer f.Close()
	msg, err := mailbox.Parse(f, "file")
	if err != nil {
		m.t.Errorf("e2e: send_email file %s: %v", path, err)
		return
	}
	m.box.Add(msg)
}
