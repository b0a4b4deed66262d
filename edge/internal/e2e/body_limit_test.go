//go:build !js

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bodyLimit is the engine's request body limit (wasm/engine maxBodyBytes),
// which the Worker enforces before it reads more.
const bodyLimit = 1 << 20

// rssBound is how much workerd may grow while refusing oversized bodies:
// a few copies of the limit, far below the bodies sent.
const rssBound = 64 << 20

// filler is an io.Reader of n bytes that holds none of them: the body is
// made as the transport reads it, so a large request costs the test no
// memory. Its head, then spaces.
type filler struct {
	head []byte
	n    int64
}

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), f.n)]
	c := copy(p, f.head)
	f.head = f.head[c:]
	for i := c; i < len(p); i++ {
		p[i] = ' '
	}
	f.n -= int64(len(p))
	return len(p), nil
}

// send posts a body of n bytes starting with head to path, chunked when
// contentLength is -1, else with that Content-Length, and decodes the
// answer.
func send(client *http.Client, w *Worker, path, head string, n, contentLength int64, auth bool) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, w.URL+path, &filler{head: []byte(head), n: n})
	if err != nil {
		return 0, nil, err
	}
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.SetBasicAuth(w.ProjectID, w.Secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if len(raw) == 0 && resp.StatusCode == http.StatusRequestEntityTooLarge {
		return resp.StatusCode, nil, nil // see TestBodyLimit
	}
	if resp.StatusCode == http.StatusServiceUnavailable && bytes.HasPrefix(raw, []byte("Your worker restarted mid-request.")) {
		return resp.StatusCode, nil, nil // wrangler dev's proxy; see TestBodyLimit
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("status %d, body not JSON: %.200q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, nil
}

// checkTooLarge checks a 413 request_too_large in the Stytch envelope.
func checkTooLarge(t *testing.T, what string, status int, out map[string]any) {
	t.Helper()
	if status != http.StatusRequestEntityTooLarge || out["status_code"] != float64(413) ||
		out["error_type"] != "request_too_large" ||
		out["error_url"] != "https://stytch.com/docs/api/errors/413#request_too_large" {
		t.Errorf("%s: %d %v, want 413 request_too_large", what, status, out)
		return
	}
	if msg, _ := out["error_message"].(string); msg == "" {
		t.Errorf("%s: no error_message", what)
	}
	if id, _ := out["request_id"].(string); !strings.HasPrefix(id, "request-id-test-") {
		t.Errorf("%s: request_id %q, want request-id-test-…", what, id)
	}
}

// TestBodyLimit checks that the Worker refuses a body over the engine's
// limit without buffering it: a declared Content-Length over the limit is
// answered 413 at once, a chunked body is read up to the limit and answered
// 413 as soon as it passes it, and workerd's memory does not grow with the
// size of what the client sends. Bodies at the limit still reach the
// engine, and the Worker serves normally afterwards.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	client := &http.Client{Timeout: 2 * time.Minute}

	// Warm: the Go instance is started, so its memory is in the baseline.
	if err := sessionRoundTrip(a, "warm@example.com"); err != nil {
		t.Fatal(err)
	}

	// The limit, through the chunked path: a body of exactly the limit
	// reaches the engine (400: no email), one byte more is refused.
	for _, c := range []struct {
		name          string
		n             int64
		contentLength int64
		tooLarge      bool
	}{
		{name: "chunked, at the limit", n: bodyLimit, contentLength: -1},
		{name: "chunked, one byte over", n: bodyLimit + 1, contentLength: -1, tooLarge: true},
		{name: "Content-Length at the limit", n: bodyLimit, contentLength: bodyLimit},
		{name: "Content-Length one byte over", n: bodyLimit + 1, contentLength: bodyLimit + 1, tooLarge: true},
	} {
		status, out, err := send(client, w, "/v1/users", "{}", c.n, c.contentLength, true)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		switch {
		case c.tooLarge:
			checkTooLarge(t, c.name, status, out)
		case status != http.StatusBadRequest:
			t.Errorf("%s: %d %v, want 400 from the engine (no email)", c.name, status, out)
		}
	}

	pids, err := w.WorkerdPIDs()
	if err != nil {
		t.Fatal(err)
	}
	mem := newRSSMeter(t, pids)

	// Unauthenticated, a few hundred MiB each, made as they are sent.
	const huge = 300 << 20
	for _, c := range []struct {
		name          string
		contentLength int64
	}{
		{name: "chunked 300 MiB", contentLength: -1},
		{name: "Content-Length 300 MiB", contentLength: huge},
	} {
		start := time.Now()
		status, out, err := send(client, w, "/v1/sessions/authenticate", `{"session_token":"x",`, huge, c.contentLength, false)
		// Refusing a body early means closing the connection on a client
		// still sending it; the client may then see the close before it
		// reads the answer: as a reset, a broken pipe, or an end of
		// stream where the answer's head should have been, or the client's
		// own side closed under its read, whichever the kernel's timing
		// gives. Each is the upload refused, not buffered.
		if connectionClosed(err) {
			t.Logf("%s: connection closed during the upload (%v)", c.name, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// The Worker stops reading and answers while the client is
		// still sending; the connection's teardown can then lose the
		// answer's body on the way (the status has arrived). The
		// envelope is checked on the one-byte-over cases above.
		//
		// wrangler dev's ProxyWorker, in front of the Worker in local runs
		// only, sometimes fails its forward of a request whose body the
		// Worker left unread and answers 503 "Your worker restarted
		// mid-request" itself (cloudflare/workers-sdk#15203, #15448): that
		// answer is the dev proxy's, not the Worker's, so it is accepted
		// here; what this test is for — memory — is checked below either
		// way, and the Worker's own 413 on the cases above.
		switch {
		case status == http.StatusRequestEntityTooLarge && out == nil:
			t.Logf("%s: 413, body lost as the connection closed", c.name)
		case status == http.StatusServiceUnavailable && out == nil:
			t.Logf("%s: 503 from wrangler dev's proxy, not the Worker", c.name)
		default:
			checkTooLarge(t, c.name, status, out)
		}
		t.Logf("%s: answered in %v", c.name, time.Since(start).Round(time.Millisecond))
	}

	grown := mem.growth()
	t.Logf("workerd (%d processes) RSS before %d MiB, grew by at most %d MiB", len(pids), mem.before>>20, grown>>20)
	if grown > rssBound {
		t.Errorf("workerd grew by %d MiB refusing oversized bodies, want < %d MiB", grown>>20, rssBound>>20)
	}

	// A normal request, and a chunked one, still work. wrangler dev's
	// proxy may answer the first POSTs after the uploads with its own 503
	// "Your worker restarted mid-request" (see above) while it reconnects,
	// or close the connection under them (a reset or an end of stream):
	// such an answer is retried, with a new user each time, until the
	// Worker's own answers come back; any other failure, or none after two
	// minutes, fails the test.
	deadline := time.Now().Add(2 * time.Minute)
	for attempt := 0; ; attempt++ {
		err := sessionRoundTrip(a, fmt.Sprintf("after-%d@example.com", attempt))
		if err == nil {
			break
		}
		if !devProxyReconnecting(err) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		t.Logf("round trip %d: the dev proxy reconnecting (%v); again", attempt, err)
	}
	for attempt := 0; ; attempt++ {
		status, out, err := send(client, w, "/v1/users", fmt.Sprintf(`{"email":"chunked-%d@example.com"}`, attempt), 64<<10, -1, true)
		if time.Now().Before(deadline) && (devProxyReconnecting(err) || err == nil && status == http.StatusServiceUnavailable && out == nil) {
			t.Logf("chunked create %d: the dev proxy reconnecting (%d, %v); again", attempt, status, err)
			continue
		}
		if err != nil || status != http.StatusOK {
			t.Errorf("chunked create user: %d %v %v, want 200", status, out, err)
		}
		break
	}
}

// devProxyReconnecting reports whether err is what wrangler dev's proxy
// gives while it reconnects to a Worker that left a body unread: its own
// 503 "Your worker restarted mid-request", or the connection closed under
// the request.
func devProxyReconnecting(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Your worker restarted mid-request") || connectionClosed(err))
}

// connectionClosed reports whether err is a connection closed under a
// request, in any of the ways a client may see it.
func connectionClosed(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// rssMeter follows the summed resident set size of some processes: it
// notes it when made, then samples it every few milliseconds until the test
// ends. It also resets the kernel's peak (VmHWM) of each process where it
// may, so that growth between two samples is seen too.
type rssMeter struct {
	pids   []int
	before int64
	hwm    bool // peaks reset: VmHWM counts from now

	mu   sync.Mutex
	peak int64
}

func newRSSMeter(t *testing.T, pids []int) *rssMeter {
	m := &rssMeter{pids: pids, hwm: true}
	before, err := m.sum("VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	m.before, m.peak = before, before
	for _, pid := range pids {
		if resetPeakRSS(pid) != nil {
			m.hwm = false
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			if n, err := m.sum("VmRSS"); err == nil {
				m.mu.Lock()
				m.peak = max(m.peak, n)
				m.mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return m
}

// sum adds field of /proc/<pid>/status over the processes.
func (m *rssMeter) sum(field string) (int64, error) {
	var n int64
	for _, pid := range m.pids {
		s, err := procStatus(pid, field)
		if err != nil {
			return 0, err
		}
		n += s[field]
	}
	return n, nil
}

// growth is the largest growth seen since the meter was made: the sampled
// peak, or the sum of the kernel's peaks when they could be reset (an
// upper bound, since the processes need not peak together).
func (m *rssMeter) growth() int64 {
	m.mu.Lock()
	peak := m.peak
	m.mu.Unlock()
	if m.hwm {
		if n, err := m.sum("VmHWM"); err == nil {
			peak = max(peak, n)
		}
	}
	return peak - m.before
}
