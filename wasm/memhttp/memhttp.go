// Package memhttp is what the engine's Wasm hosts share to serve it without
// a network: the Worker's Go side (edge) and the wasip1 guest both receive a
// request as parts, build the http.Request the engine serves, and collect
// its answer in memory.
//
// Memhttp is Latch's implementation, not API, and may change in any
// release. It is not under internal/ because its users, edge and wasm,
// share no directory below the module root.
package memhttp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
)

// NewRequest builds the request the engine serves from the parts a host
// received: target is a URL or a path with its query. Its Host comes from
// the Host header when one is given.
func NewRequest(ctx context.Context, method, target string, header http.Header, body []byte, remoteAddr string) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("memhttp: request: %w", err)
	}
	if header == nil {
		header = http.Header{}
	}
	r.Header = header
	if host := header.Get("Host"); host != "" {
		r.Host = host
	}
	r.ContentLength = int64(len(body))
	r.RemoteAddr = remoteAddr
	return r, nil
}

// Recorder is an in-memory http.ResponseWriter.
type Recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{header: make(http.Header)} }

// Header returns the answer's header, to be changed before WriteHeader.
func (r *Recorder) Header() http.Header { return r.header }

// WriteHeader records the status; only the first call counts.
func (r *Recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Write appends to the body, recording 200 if no status was written.
func (r *Recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// Result returns the status (200 when nothing was written), the header and
// the body, which stays the Recorder's.
func (r *Recorder) Result() (int, http.Header, []byte) {
	if r.status == 0 {
		return http.StatusOK, r.header, r.body.Bytes()
	}
	return r.status, r.header, r.body.Bytes()
}
