package loginpage

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReturnTo: whatever return_to a browser sends, the page sends it only
// to an allow-listed scheme and host, under an allowed path, with no dot
// segments, and accepts its own answer again unchanged.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"", "http://127.0.0.1:3000/", "https://app.example.com/dashboard?x=1",
		"//evil.example", "/\\evil", "http://127.0.0.1:3000/%2e%2e/x", "http://127.0.0.1:3000@evil/",
		"HTTP://APP.EXAMPLE.COM/dashboard", "http://127.0.0.1:3000/a/./b", "https://app.example.com/dashboard/x"} {
		f.Add(s)
	}
	s, err := Config{API: http.NotFoundHandler(), ProjectID: "p", Secret: "s", URL: "http://127.0.0.1:8787/login",
		ReturnURLs: []string{"http://127.0.0.1:3000/", "https://app.example.com/dashboard"}}.check()
	if err != nil {
		f.Fatal(err)
	}
	p := &page{settings: s}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := p.returnTo(raw)
		if !ok {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("returnTo(%q) = %q, which does not parse cleanly", raw, got)
		}
		host := strings.ToLower(u.Host)
		scheme := strings.ToLower(u.Scheme)
		path := u.EscapedPath()
		switch {
		case scheme == "http" && host == "127.0.0.1:3000" && (path == "" || strings.HasPrefix(path, "/")):
			if dotSegments(path) {
				t.Fatalf("returnTo(%q) = %q keeps a dot segment", raw, got)
			}
		case scheme == "https" && host == "app.example.com" && path == "/dashboard":
		default:
			t.Fatalf("returnTo(%q) = %q, off the allow-list", raw, got)
		}
		if again, ok := p.returnTo(got); !ok || again != got {
			t.Fatalf("returnTo(%q) = %q, but that gives %q, %v", raw, got, again, ok)
		}
	})
}

// FuzzClean: what the page records or shows again is valid UTF-8 without
// control characters, within its bound.
func FuzzClean(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64)", 1024)
	f.Add("a\x00b\r\nc\u0085d\xff", 8)
	f.Fuzz(func(t *testing.T, v string, max int) {
		if max < 0 || max > 4096 {
			return
		}
		out := clean(v, max)
		if len(out) > max || !utf8.ValidString(out) {
			t.Fatalf("clean(%q, %d) = %q", v, max, out)
		}
		for _, c := range out {
			if c < ' ' || c == 0x7f || (c >= 0x80 && c < 0xa0) {
				t.Fatalf("clean(%q, %d) = %q keeps %U", v, max, out, c)
			}
		}
	})
}

// FuzzPageCookies: whatever Cookie header a browser sends, the verifier
// the page reads from it is one of a verifier's form (43 characters of
// unpadded base64url, 32 bytes) or none, its challenge 43 characters, and
// the pending intermediate session token within its bound.
func FuzzPageCookies(f *testing.F) {
	for _, s := range []string{"", "latch_link_verifier=" + strings.Repeat("A", 43), "latch_link_verifier=" + strings.Repeat("_", 43),
		"latch_link_verifier=" + strings.Repeat("A", 42) + "B", "latch_link_verifier=" + strings.Repeat("A", 44),
		"latch_link_verifier=" + strings.Repeat("A", 42) + "=", "latch_pending=abc; latch_link_verifier=\"" + strings.Repeat("A", 43) + "\"",
		"latch_pending=" + strings.Repeat("x", 300), "latch_link_verifier=a; latch_link_verifier=" + strings.Repeat("B", 43)} {
		f.Add(s)
	}
	p := &page{}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		if v := p.heldVerifier(r); v != "" {
			b, err := base64.RawURLEncoding.Strict().DecodeString(v)
			if len(v) != 43 || err != nil || len(b) != verifierBytes || base64.RawURLEncoding.EncodeToString(b) != v {
				t.Fatalf("heldVerifier(%q) = %q, not a verifier", header, v)
			}
			if c := challengeOf(v); len(c) != 43 {
				t.Fatalf("challengeOf(%q) = %q", v, c)
			}
		}
		if tok := p.pending(r); len(tok) > maxToken {
			t.Fatalf("pending(%q) = %q, over %d bytes", header, tok, maxToken)
		}
	})
}
