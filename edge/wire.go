package main

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/latchauth/latch/wasm/memhttp"
)

// The glue and Go exchange a request or response head as one string:
// "name\nvalue\n" per header field, in order. Fetch API header values never
// hold a newline, so the encoding is unambiguous, and one string crosses the
// JS↔Wasm boundary in one call instead of two calls per field.

// errBadHeaders is returned for a header string that is not name/value pairs.
var errBadHeaders = errors.New("edge: malformed header list")

// parseHeaders decodes the glue's header string.
func parseHeaders(s string) (http.Header, error) {
	h := make(http.Header)
	for s != "" {
		name, rest, ok := strings.Cut(s, "\n")
		if !ok || name == "" {
			return nil, errBadHeaders
		}
		value, rest2, ok := strings.Cut(rest, "\n")
		if !ok {
			return nil, errBadHeaders
		}
		h.Add(name, value)
		s = rest2
	}
	return h, nil
}

// formatHeaders encodes h for the glue. Values holding a newline (which the
// Fetch API would reject anyway) are dropped.
func formatHeaders(h http.Header) string {
	var b strings.Builder
	for name, values := range h {
		if strings.ContainsAny(name, "\r\n") {
			continue
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				continue
			}
			b.WriteString(name)
			b.WriteByte('\n')
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// newRequest builds the http.Request the engine serves from what the glue
// passed over.
func newRequest(ctx context.Context, method, url, headers string, body []byte) (*http.Request, error) {
	h, err := parseHeaders(headers)
	if err != nil {
		return nil, err
	}
	return memhttp.NewRequest(ctx, method, url, h, body, h.Get("CF-Connecting-IP"))
}
