package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxResponseHeader bounds the header block of an answer read by the
// default client of NewHTTPFetcher; providers send a few KiB.
const maxResponseHeader = 64 << 10

// Why a Fetch was refused without an answer.
var (
	errScheme   = errors.New("oauth: fetch: only http and https URLs are fetched")
	errTooLarge = fmt.Errorf("oauth: fetch: response body over %d bytes", MaxResponseBody)
)

// httpFetcher is a Fetcher over net/http.
type httpFetcher struct {
	client *http.Client
}

// NewHTTPFetcher returns a Fetcher over net/http for the Go hosts. With a
// nil client it uses one of its own: a clone of http.DefaultTransport
// (proxies from the environment) reading at most 64 KiB of headers, and a
// Timeout of Timeout. A client given is used through a copy that follows
// no redirect (CheckRedirect answers http.ErrUseLastResponse) and keeps no
// cookies (no Jar), so that one user's answer never feeds another's
// request. Every Fetch gives up after Timeout, whatever the client's own.
func NewHTTPFetcher(client *http.Client) Fetcher {
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxResponseHeaderBytes = maxResponseHeader
		client = &http.Client{Transport: tr, Timeout: Timeout}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Jar = nil
	return &httpFetcher{client: &c}
}

// Fetch makes req and reads its answer whole. Its errors name the URL
// without its query, which may carry a token.
func (f *httpFetcher) Fetch(ctx context.Context, req *Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("oauth: fetch: the URL does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w, not %q", errScheme, clip(u.Scheme))
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	where := method + " " + (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("oauth: fetch %s: %w", where, unwrapURL(err))
	}
	if req.Header != nil {
		hreq.Header = req.Header.Clone()
	}
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("oauth: fetch %s: %w", where, unwrapURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("oauth: fetch %s: reading the body: %w", where, unwrapURL(err))
	}
	if len(data) > MaxResponseBody {
		return nil, fmt.Errorf("%w (%s)", errTooLarge, where)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// unwrapURL drops the *url.Error around err, whose message quotes the
// whole URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
