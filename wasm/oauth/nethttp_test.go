package oauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPFetcherRoundTrip: the method, headers and body reach the
// server as given, and its status, headers and body come back whole.
func TestHTTPFetcherRoundTrip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header()["X-Echo-Method"] = []string{r.Method}
		w.Header()["X-Echo-Auth"] = r.Header.Values("Authorization")
		w.Header()["X-Echo-Multi"] = r.Header.Values("X-Multi")
		w.Header().Set("X-Echo-Query", r.URL.RawQuery)
		w.WriteHeader(http.StatusCreated)
		w.Write(append([]byte("got:"), body...))
	}))
	defer srv.Close()
	f := NewHTTPFetcher(nil)
	tests := []struct {
		name     string
		req      *Request
		wantBody string
		want     http.Header
	}{
		{
			name:     "get with headers",
			req:      &Request{Method: "GET", URL: srv.URL + "/userinfo?a=1", Header: http.Header{"Authorization": {"Bearer at-1"}, "X-Multi": {"a", "b"}}},
			wantBody: "got:",
			want:     http.Header{"X-Echo-Method": {"GET"}, "X-Echo-Auth": {"Bearer at-1"}, "X-Echo-Multi": {"a", "b"}, "X-Echo-Query": {"a=1"}},
		},
		{
			name:     "post with a body",
			req:      &Request{Method: "POST", URL: srv.URL + "/token", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte("grant_type=authorization_code&code=c1")},
			wantBody: "got:grant_type=authorization_code&code=c1",
			want:     http.Header{"X-Echo-Method": {"POST"}, "X-Echo-Query": {""}},
		},
		{
			name:     "no method is GET",
			req:      &Request{URL: srv.URL + "/.well-known/openid-configuration"},
			wantBody: "got:",
			want:     http.Header{"X-Echo-Method": {"GET"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusCreated || string(resp.Body) != tt.wantBody {
				t.Errorf("got %d %q, want 201 %q", resp.Status, resp.Body, tt.wantBody)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			for name, want := range tt.want {
				if got := resp.Header.Values(name); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestHTTPFetcherNoRedirect: a 3xx comes back as it came, its Location
// unfollowed, with the default client and with one given that would
// follow; the client given is left as it was.
func TestHTTPFetcherNoRedirect(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	given := &http.Client{Jar: jar}
	for name, f := range map[string]Fetcher{"default": NewHTTPFetcher(nil), "given": NewHTTPFetcher(given)} {
		t.Run(name, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), &Request{Method: "GET", URL: srv.URL + "/start"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusFound || resp.Header.Get("Location") != "/elsewhere" {
				t.Errorf("got %d, Location %q; want 302 to /elsewhere", resp.Status, resp.Header.Get("Location"))
			}
		})
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	if given.CheckRedirect != nil || given.Jar != jar {
		t.Error("NewHTTPFetcher changed the client it was given")
	}
}

// TestHTTPFetcherBodyLimit: a body of MaxResponseBody bytes is read
// whole; one byte more fails, with or without a Content-Length.
func TestHTTPFetcherBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := MaxResponseBody
		if r.URL.Path == "/over" {
			n++
		}
		if r.URL.Query().Has("chunked") {
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
		w.Write(bytes.Repeat([]byte("x"), n))
	}))
	defer srv.Close()
	f := NewHTTPFetcher(nil)
	for _, q := range []string{"", "?chunked"} {
		resp, err := f.Fetch(context.Background(), &Request{Method: "GET", URL: srv.URL + "/limit" + q})
		if err != nil || len(resp.Body) != MaxResponseBody {
			t.Fatalf("body of MaxResponseBody%s: %v", q, err)
		}
		resp, err = f.Fetch(context.Background(), &Request{Method: "GET", URL: srv.URL + "/over" + q})
		if !errors.Is(err, errTooLarge) || resp != nil {
			t.Fatalf("body over MaxResponseBody%s: %v, %v; want errTooLarge", q, resp, err)
		}
	}
}

// TestHTTPFetcherContext: a server that never answers is given up on
// when the caller's context ends, and the server sees its request end.
func TestHTTPFetcherContext(t *testing.T) {
	ended := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(ended)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	resp, err := NewHTTPFetcher(nil).Fetch(ctx, &Request{Method: "GET", URL: srv.URL + "/hang"})
	if !errors.Is(err, context.DeadlineExceeded) || resp != nil {
		t.Fatalf("Fetch = %v, %v; want context.DeadlineExceeded", resp, err)
	}
	<-ended
}

// TestHTTPFetcherTimeout: the default client gives up after Timeout, and
// every Fetch does, whatever the client given.
func TestHTTPFetcherTimeout(t *testing.T) {
	if got := NewHTTPFetcher(nil).(*httpFetcher).client.Timeout; got != Timeout {
		t.Errorf("default client Timeout %v, want %v", got, Timeout)
	}
	var deadline time.Time
	f := NewHTTPFetcher(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		deadline, _ = r.Context().Deadline()
		return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}}, nil
	})})
	start := time.Now()
	if _, err := f.Fetch(context.Background(), &Request{Method: "GET", URL: "https://idp.example.com/keys"}); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if deadline.Before(start.Add(Timeout)) || deadline.After(end.Add(Timeout)) {
		t.Errorf("request deadline %v after the call began, want %v", deadline.Sub(start), Timeout)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHTTPFetcherRefuses: URLs that are not http or https, or not URLs,
// are refused before any request; errors never quote a URL's query.
func TestHTTPFetcherRefuses(t *testing.T) {
	var asked atomic.Int32
	f := NewHTTPFetcher(&http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		asked.Add(1)
		return nil, errors.New("unreachable")
	})})
	for _, tt := range []struct {
		name string
		url  string
		want error
	}{
		{name: "file", url: "file:///etc/passwd", want: errScheme},
		{name: "ftp", url: "ftp://idp.example.com/x", want: errScheme},
		{name: "gopher", url: "gopher://idp.example.com:70/x", want: errScheme},
		{name: "relative", url: "/token", want: errScheme},
		{name: "empty", url: "", want: errScheme},
		{name: "javascript", url: "javascript:alert(1)", want: errScheme},
		{name: "not a URL", url: "https://idp.example.com/%zz?code=secret-code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), &Request{Method: "GET", URL: tt.url})
			if err == nil || resp != nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Fetch(%q) = %v, %v; want %v", tt.url, resp, err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-code") {
				t.Errorf("error %q quotes the URL's query", err)
			}
		})
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("%d requests made for refused URLs", n)
	}
	_, err := f.Fetch(context.Background(), &Request{Method: "GET", URL: "https://idp.example.com/token?code=secret-code"})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "GET https://idp.example.com/token") || strings.Contains(err.Error(), "secret-code") {
		t.Errorf("transport failure: %v; want the method, the URL without its query, and the cause", err)
	}
}
