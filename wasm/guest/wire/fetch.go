package wire

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/latchauth/latch/wasm/oauth"
)

// Fetch is one outbound HTTP request the guest's engine asks the host to
// make (oauth.Request, field for field).
type Fetch struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Fetched is the host's answer to a Fetch (oauth.Response, field for
// field), its body read whole.
type Fetched struct {
	Status int
	Header http.Header
	Body   []byte
}

// AppendFetch appends f as an 'F' frame. It fails, appending nothing,
// when f is over the frame's bounds: a field over MaxText, more than
// MaxHeaders header lines or 64 KiB of header names and values, a body
// over oauth.MaxResponseBody.
func AppendFetch(b []byte, f *Fetch) ([]byte, error) {
	switch {
	case len(f.Method) > MaxText || len(f.URL) > MaxText:
		return b, fmt.Errorf("wire: fetch: %w: method or URL over %d bytes", ErrTooLarge, MaxText)
	case len(f.Body) > oauth.MaxResponseBody:
		return b, fmt.Errorf("wire: fetch: %w: body of %d bytes, at most %d", ErrTooLarge, len(f.Body), oauth.MaxResponseBody)
	}
	if err := checkFetchHeader(f.Header); err != nil {
		return b, fmt.Errorf("wire: fetch: %w", err)
	}
	b = appendString(appendString(append(b, kindFetch), f.Method), f.URL)
	b = appendHeader(b, f.Header)
	return appendBytes(b, f.Body), nil
}

// ParseFetch decodes an 'F' frame. Header and Body are copies.
func ParseFetch(frame []byte) (*Fetch, error) {
	r := newReader(frame, kindFetch)
	f := &Fetch{Method: r.text("method"), URL: r.text("url")}
	f.Header = r.fetchHeader()
	f.Body = slices.Clone(r.bytes(oauth.MaxResponseBody, "body"))
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: fetch: %w", err)
	}
	return f, nil
}

// AppendFetched appends f as an 'f' frame, the answer to an 'F' frame. It
// fails, appending nothing, when f is over the frame's bounds (as
// AppendFetch) or its status is not of three digits.
func AppendFetched(b []byte, f *Fetched) ([]byte, error) {
	switch {
	case f.Status < 100 || f.Status > 999:
		return b, fmt.Errorf("wire: fetched: %w: status %d", ErrFrame, f.Status)
	case len(f.Body) > oauth.MaxResponseBody:
		return b, fmt.Errorf("wire: fetched: %w: body of %d bytes, at most %d", ErrTooLarge, len(f.Body), oauth.MaxResponseBody)
	}
	if err := checkFetchHeader(f.Header); err != nil {
		return b, fmt.Errorf("wire: fetched: %w", err)
	}
	b = appendU32(append(b, kindFetched), uint32(f.Status))
	b = appendHeader(b, f.Header)
	return appendBytes(b, f.Body), nil
}

// ParseFetched decodes an 'f' frame, or returns the *RemoteError of an 'E'
// frame. Header and Body are copies.
func ParseFetched(frame []byte) (*Fetched, error) {
	r := newReader(frame, kindFetched)
	f := &Fetched{Status: int(r.u32("status"))}
	f.Header = r.fetchHeader()
	f.Body = slices.Clone(r.bytes(oauth.MaxResponseBody, "body"))
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: fetched: %w", err)
	}
	if f.Status < 100 || f.Status > 999 {
		return nil, fmt.Errorf("wire: fetched: %w: status %d", ErrFrame, f.Status)
	}
	return f, nil
}

// checkFetchHeader reports whether h is within a fetch frame's bounds.
func checkFetchHeader(h http.Header) error {
	lines, size := 0, 0
	for name, vs := range h {
		for _, v := range vs {
			if len(name) > MaxText || len(v) > MaxText {
				return fmt.Errorf("%w: a header line over %d bytes", ErrTooLarge, MaxText)
			}
			lines++
			size += len(name) + len(v)
		}
	}
	switch {
	case lines > MaxHeaders:
		return fmt.Errorf("%w: %d header lines, at most %d", ErrTooLarge, lines, MaxHeaders)
	case size > maxFetchHeader:
		return fmt.Errorf("%w: %d bytes of headers, at most %d", ErrTooLarge, size, maxFetchHeader)
	}
	return nil
}

// fetchHeader reads a header as header does, and fails when its names
// and values together are over maxFetchHeader bytes.
func (r *reader) fetchHeader() http.Header {
	before := len(r.b)
	h := r.header()
	if r.err != nil {
		return h
	}
	// Each line is two u32 lengths and its bytes.
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	if size := before - len(r.b) - 4 - 8*n; size > maxFetchHeader {
		r.fail(fmt.Errorf("%w: %d bytes of headers, at most %d", ErrTooLarge, size, maxFetchHeader))
	}
	return h
}
