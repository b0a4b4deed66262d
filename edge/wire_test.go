package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      string
		want    http.Header
		wantErr error
	}{
		{name: "empty", in: "", want: http.Header{}},
		{name: "one", in: "content-type\napplication/json\n", want: http.Header{"Content-Type": {"application/json"}}},
		{name: "repeated", in: "accept\na\naccept\nb\n", want: http.Header{"Accept": {"a", "b"}}},
		{name: "empty value", in: "x-empty\n\n", want: http.Header{"X-Empty": {""}}},
		{name: "value with colon", in: "authorization\nBasic a:b\n", want: http.Header{"Authorization": {"Basic a:b"}}},
		{name: "missing value", in: "accept\n", wantErr: errBadHeaders},
		{name: "no newline", in: "accept", wantErr: errBadHeaders},
		{name: "empty name", in: "\nvalue\n", wantErr: errBadHeaders},
		{name: "unterminated value", in: "accept\nx", wantErr: errBadHeaders},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseHeaders(c.in)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestFormatHeadersRoundTrip(t *testing.T) {
	h := http.Header{
		"Content-Type": {"application/json"},
		"Set-Cookie":   {"a=1", "b=2"},
		"X-Bad":        {"line\nbreak"},
	}
	got, err := parseHeaders(formatHeaders(h))
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"a=1", "b=2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (values with newlines dropped)", got, want)
	}
}

func TestNewRequest(t *testing.T) {
	r, err := newRequest(context.Background(), http.MethodPost, "http://127.0.0.1:8787/v1/users?x=1",
		"content-type\napplication/json\ncf-connecting-ip\n203.0.113.7\n", []byte(`{"email":"a@b.c"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/users" || r.URL.Query().Get("x") != "1" {
		t.Errorf("method %s path %s query %s", r.Method, r.URL.Path, r.URL.RawQuery)
	}
	if r.Header.Get("Content-Type") != "application/json" || r.RemoteAddr != "203.0.113.7" || r.ContentLength != 17 {
		t.Errorf("header %v remote %q length %d", r.Header, r.RemoteAddr, r.ContentLength)
	}
	body, _ := io.ReadAll(r.Body)
	if string(body) != `{"email":"a@b.c"}` {
		t.Errorf("body %q", body)
	}
	if _, err := newRequest(context.Background(), "GET", "http://x/", "bad", nil); !errors.Is(err, errBadHeaders) {
		t.Errorf("bad headers: err = %v, want %v", err, errBadHeaders)
	}
	if _, err := newRequest(context.Background(), "BAD METHOD", "http://x/", "", nil); err == nil {
		t.Error("bad method: want an error")
	}
}

// FuzzParseHeaders: header strings come from the glue; parsing must not
// panic and what parses must survive a format/parse round trip.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"", "a\nb\n", "a\n", "\n\n", "a\nb\nc\nd\n", "x-y\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeaders(s)
		if err != nil {
			return
		}
		again, err := parseHeaders(formatHeaders(h))
		if err != nil {
			t.Fatalf("formatted headers do not parse: %v", err)
		}
		for name, values := range again {
			if len(values) > len(h[name]) {
				t.Fatalf("round trip grew %q: %v from %v", name, values, h[name])
			}
		}
	})
}
