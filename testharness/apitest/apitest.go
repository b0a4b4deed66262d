// Package apitest is the one API client Latch's tests and benchmarks
// share: a request with the project's Basic auth and a JSON body, its
// answer decoded. It talks to a Latch over HTTP, or to an engine in the
// same process.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Client calls one project's API.
type Client struct {
	// URL is where the API answers, without a trailing slash; ignored
	// when Handler is set.
	URL string
	// ProjectID and Secret are sent as Basic auth, unless NoAuth is set.
	ProjectID, Secret string
	NoAuth            bool
	// HTTP makes the requests; a client with a 30 second timeout when nil.
	HTTP *http.Client
	// Handler, when set, serves the requests in process instead.
	Handler http.Handler
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Do sends method path with body — marshalled as JSON unless it is a
// string or []byte, no body when nil — and returns the status and the
// answer's JSON object.
func (c *Client) Do(ctx context.Context, method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, fmt.Errorf("apitest: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("apitest: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !c.NoAuth {
		req.SetBasicAuth(c.ProjectID, c.Secret)
	}
	status, raw, err := c.send(req)
	if err != nil {
		return 0, nil, fmt.Errorf("apitest: %s %s: %w", method, path, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return status, nil, fmt.Errorf("apitest: %s %s: status %d, body is not a JSON object: %.200q", method, path, status, raw)
	}
	return status, out, nil
}

func (c *Client) send(req *http.Request) (int, []byte, error) {
	if c.Handler != nil {
		rec := httptest.NewRecorder()
		c.Handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes(), nil
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Post is Do with POST and no deadline of its own.
func (c *Client) Post(path string, body any) (int, map[string]any, error) {
	return c.Do(context.Background(), http.MethodPost, path, body)
}

// MustPost posts body to path and fails tb unless the answer is a 200.
func (c *Client) MustPost(tb testing.TB, path string, body any) map[string]any {
	tb.Helper()
	status, out, err := c.Post(path, body)
	if err != nil || status != http.StatusOK {
		tb.Fatalf("POST %s: %d %v %v", path, status, out, err)
	}
	return out
}
