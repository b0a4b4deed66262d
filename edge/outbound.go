package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchauth/latch/wasm/oauth"
)

// checkOutbound checks an outbound request before it goes to the glue's
// fetch: an absolute http or https URL, a method that is an HTTP token, no
// body on a GET or HEAD. It returns the method to send (GET when none is
// given) and where, the method and the URL without its query (which may
// carry a token), to name the request in errors, as oauth.NewHTTPFetcher
// does on the Go hosts.
func checkOutbound(req *oauth.Request) (method, where string, err error) {
	if req == nil {
		return "", "", errors.New("edge: fetch: no request")
	}
	u, err := url.Parse(req.URL)
	if err != nil || u.Host == "" {
		return "", "", errors.New("edge: fetch: the URL is not absolute")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("edge: fetch: scheme %q is not http or https", clipValue(u.Scheme))
	}
	method = req.Method
	if method == "" {
		method = http.MethodGet
	}
	if !isToken(method) {
		return "", "", errors.New("edge: fetch: the method is not an HTTP token")
	}
	where = method + " " + (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if len(req.Body) > 0 && (method == http.MethodGet || method == http.MethodHead) {
		return "", "", fmt.Errorf("edge: fetch %s: a %s request has no body", where, method)
	}
	return method, where, nil
}

// isToken reports whether s is an RFC 9110 token, as a method must be.
func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
