package main

import (
	"testing"

	"github.com/latchauth/latch/wasm/oauth"
)

func TestCheckOutbound(t *testing.T) {
	for _, c := range []struct {
		name       string
		req        *oauth.Request
		wantMethod string
		wantWhere  string
		wantErr    string
	}{
		{name: "get by default", req: &oauth.Request{URL: "https://accounts.example.com/.well-known/openid-configuration"}, wantMethod: "GET",
			wantWhere: "GET https://accounts.example.com/.well-known/openid-configuration"},
		{name: "post with a body", req: &oauth.Request{Method: "POST", URL: "https://idp.example.com/token", Body: []byte("code=x")}, wantMethod: "POST",
			wantWhere: "POST https://idp.example.com/token"},
		{name: "http", req: &oauth.Request{URL: "http://127.0.0.1:9000/jwks"}, wantMethod: "GET", wantWhere: "GET http://127.0.0.1:9000/jwks"},
		{name: "a query is left out", req: &oauth.Request{URL: "https://api.github.com/user?access_token=t0ken#x"}, wantMethod: "GET",
			wantWhere: "GET https://api.github.com/user"},
		{name: "no request", wantErr: "edge: fetch: no request"},
		{name: "relative", req: &oauth.Request{URL: "/token"}, wantErr: "edge: fetch: the URL is not absolute"},
		{name: "not a URL", req: &oauth.Request{URL: "https://exa mple.com/%zz"}, wantErr: "edge: fetch: the URL is not absolute"},
		{name: "file", req: &oauth.Request{URL: "file://host/etc/passwd"}, wantErr: `edge: fetch: scheme "file" is not http or https`},
		{name: "ftp", req: &oauth.Request{URL: "ftp://idp.example.com/x"}, wantErr: `edge: fetch: scheme "ftp" is not http or https`},
		{name: "method with a space", req: &oauth.Request{Method: "GET X", URL: "https://idp.example.com/"}, wantErr: "edge: fetch: the method is not an HTTP token"},
		{name: "get with a body", req: &oauth.Request{URL: "https://idp.example.com/", Body: []byte("x")}, wantErr: "edge: fetch GET https://idp.example.com/: a GET request has no body"},
		{name: "head with a body", req: &oauth.Request{Method: "HEAD", URL: "https://idp.example.com/", Body: []byte("x")}, wantErr: "edge: fetch HEAD https://idp.example.com/: a HEAD request has no body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			method, where, err := checkOutbound(c.req)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
				t.Fatalf("error %v, want %q", err, c.wantErr)
			case method != c.wantMethod || where != c.wantWhere:
				t.Errorf("method %q, where %q; want %q, %q", method, where, c.wantMethod, c.wantWhere)
			}
		})
	}
}
