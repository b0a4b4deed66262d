package loginpage

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds a return_to.
const maxReturnTo = 2048

// returnTo returns where to send the browser for the requested raw
// return_to: raw itself when the allow-list holds it (Config.ReturnURLs),
// the first entry when raw is empty, and ok false otherwise. There is no
// relative form: a return_to is absolute, so "//evil.example" or
// "/\evil.example" never reads as a path of ours.
func (p *page) returnTo(raw string) (string, bool) {
	if raw == "" {
		return p.returns[0].String(), true
	}
	if len(raw) > maxReturnTo || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	for _, a := range p.returns {
		if !strings.EqualFold(u.Scheme, a.Scheme) || !strings.EqualFold(u.Host, a.Host) {
			continue
		}
		path, want := u.EscapedPath(), a.EscapedPath()
		if path == "" {
			path = "/"
		}
		if want == "" {
			want = "/"
		}
		if path == want || strings.HasSuffix(want, "/") && strings.HasPrefix(path, want) && !dotSegments(path) {
			return u.String(), true
		}
	}
	return "", false
}

// dotSegments reports whether path has a "." or ".." segment, which a
// browser would resolve out from under an allowed prefix.
func dotSegments(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if s, err := url.PathUnescape(seg); err != nil || s == "." || s == ".." || strings.Contains(s, "/") {
			return true
		}
	}
	return false
}
