//go:build !js

package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"testing"
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

// maxProxiedBody bounds a browser request's body that browserProxy holds
// to send again; nothing a test page posts comes near it.
const maxProxiedBody = 1 << 20

// browserProxy starts, for t, a forward proxy that Chromium sends its
// requests through (--proxy-server, loopback included), and returns its
// address. Plain HTTP requests go on through Transport, so a browser step
// is spared wrangler's keep-alive race as the Go clients are; CONNECT (the
// test providers' https) is tunnelled as it is.
func browserProxy(t *testing.T) string {
	t.Helper()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Host = pr.In.Host
			if pr.Out.Body == nil || pr.Out.Body == http.NoBody {
				return
			}
			body, err := io.ReadAll(io.LimitReader(pr.Out.Body, maxProxiedBody))
			pr.Out.Body.Close()
			if err != nil {
				body = nil
			}
			pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			pr.Out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			pr.Out.ContentLength = int64(len(body))
		},
		Transport: Transport(),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			rp.ServeHTTP(w, r)
			return
		}
		upstream, err := net.DialTimeout("tcp", r.Host, 10*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		go func() { _, _ = io.Copy(upstream, conn); upstream.Close() }()
		_, _ = io.Copy(conn, upstream)
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}
