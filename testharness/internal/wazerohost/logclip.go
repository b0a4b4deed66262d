package wazerohost

import (
	"bytes"
	"io"
	"strconv"
)

// Log lines the host writes or passes on are bounded, so a request cannot
// make the log as large as itself (see RATIONALE.md, "Why are request
// targets and log lines bounded?").
const (
	// maxLogField bounds one request-derived value (path, method) in a
	// host log line.
	maxLogField = 256
	// maxLogLine bounds each line of the guest's standard error and of
	// net/http's error log.
	maxLogLine = 4 << 10
)

// clip quotes s, cut to maxLogField bytes, for a log line: quoting keeps a
// newline in a path from forging a second line.
func clip(s string) string {
	if len(s) <= maxLogField {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxLogField]) + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

var clipMark = []byte("…(clipped)")

// clipWriter passes each line through up to max bytes and drops the rest
// of a longer one, marking the cut. Not safe for concurrent use: give each
// writer (guest instance, logger) its own.
type clipWriter struct {
	w   io.Writer
	max int
	n   int // bytes of the current line seen so far
}

func (c *clipWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, min(len(p), c.max+len(clipMark)+1))
	for rest := p; len(rest) > 0; {
		line, tail, newline := bytes.Cut(rest, []byte{'\n'})
		if room := c.max - c.n; room > 0 {
			out = append(out, line[:min(len(line), room)]...)
		}
		if c.n <= c.max && c.n+len(line) > c.max {
			out = append(out, clipMark...)
		}
		c.n += len(line)
		if newline {
			out = append(out, '\n')
			c.n = 0
		}
		rest = tail
	}
	if len(out) > 0 {
		if _, err := c.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
