//go:build !js

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"time"
)

// Transport returns the http.RoundTripper for clients of a Worker under
// wrangler dev. Both hops of wrangler's local proxy (the client to its
// proxy, the proxy to the Worker) close a keep-alive connection after 5
// idle seconds, and a request sent on one just as it closes is lost: on the
// first hop the client reads EOF, on the second the proxy answers 503 "Your
// worker restarted mid-request" although nothing restarted
// (cloudflare/workers-sdk#14641; the proxy retries a GET there, not a
// POST). A test that waits about 5 s between two requests (for mail, for an
// expiry) hit it now and then. Transport never reuses a connection idle
// for 4 s or more, which takes the first hop out of the race, and sends a
// request again, at most twice more, when the proxy answers that 503: the
// Worker never read it (the test Workers are never reloaded, see
// stageModules, so a lost connection is the only cause of that answer).
// Every other answer, and every error, is the caller's.
func Transport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.IdleConnTimeout = 4 * time.Second
	return &devProxyTransport{next: t}
}

// restartedMidRequest begins the body of the 503 wrangler's proxy answers
// when its request to the Worker was lost.
var restartedMidRequest = []byte("Your worker restarted mid-request.")

type devProxyTransport struct{ next http.RoundTripper }

func (d *devProxyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	req := r
	for attempt := 1; ; attempt++ {
		resp, err := d.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || attempt == 3 || (r.Body != nil && r.GetBody == nil) {
			return resp, err
		}
		peek := make([]byte, len(restartedMidRequest))
		n, _ := io.ReadFull(resp.Body, peek)
		if !bytes.Equal(peek[:n], restartedMidRequest) {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(peek[:n]), resp.Body), resp.Body}
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		req = r.Clone(r.Context())
		if r.Body != nil {
			if req.Body, err = r.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}
