// Package exampleorigin is a small app origin that signs its visitors in
// with Latch. Its one page says who is signed in and how; a visitor
// without a session is sent to Latch's hosted login page, which sends them
// back once signed in. With Config.SDK it also signs visitors in on its
// own page, /sdk-login, with Stytch's frontend SDK and its prebuilt UI.
// It is what
//
//	go run ./edge/cmd/latch-example-origin
//
// serves next to `make dev`, and what Latch's browser test drives.
//
// It shows package verifier in a browser-facing origin.
// Verifier.Middleware reads the session cookies the login page set
// (stytch_session_jwt, else stytch_session), refreshes the JWT cookie
// through the edge once it has expired, and hands each request it turns
// away to verifier.Config.ErrorHandler, here ErrorHandler, which
// redirects to the login page:
//
//	v, err := verifier.New(ctx, verifier.Config{
//		ProjectID:    projectID,
//		BaseURL:      "http://127.0.0.1:8787",
//		Secret:       secret,
//		ErrorHandler: exampleorigin.ErrorHandler(loginURL, originURL),
//	})
//	…
//	h, err := exampleorigin.New(exampleorigin.Config{Verifier: v, LoginURL: loginURL, URL: originURL})
package exampleorigin

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchauth/latch/verifier"
)

// Config configures the example origin.
type Config struct {
	// Verifier checks each request's session; required. Its
	// Config.ErrorHandler should be ErrorHandler(LoginURL, URL), so that a
	// visitor without a session is sent to sign in rather than answered
	// with the verifier's JSON 401.
	Verifier *verifier.Verifier
	// LoginURL is the absolute URL of Latch's hosted login page, e.g.
	// http://127.0.0.1:8787/login; required. Its /logout signs out.
	LoginURL string
	// URL is this origin's own public base URL, e.g.
	// http://127.0.0.1:3000, the return_to it asks the login page for;
	// required.
	URL string
	// Name is shown in the page title; "Example app" when empty.
	Name string
	// SDK, when set, also signs visitors in with Stytch's frontend SDK on
	// the origin's own pages; see SDKConfig.
	SDK *SDKConfig
}

// New checks cfg and returns the origin's handler:
//
//   - GET / (and HEAD), behind cfg.Verifier.Middleware: a page naming the
//     signed-in user (by the email of a factor, else by user id), the
//     session's factors, id and expiry, and a link to sign out;
//   - GET /healthz: 200 "ok", without a session;
//   - with cfg.SDK, without a session: GET /sdk-login, signing in with
//     the SDK's prebuilt login UI (emailed codes, 60-minute sessions),
//     then on to /; GET /sdk-logout, where /'s sign-out link then leads:
//     the SDK revokes its session and returns to /sdk-login (a session of
//     the hosted login page goes on to that page's sign-out); their
//     scripts, /sdk-login.js and /sdk-logout.js, and the SDK,
//     /sdk/stytch.js;
//   - another method on these paths: 405; any other path: 404.
//
// Every answer carries a Content-Security-Policy that allows nothing
// (the page has no script, style or form), Cache-Control: no-store,
// X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer. The
// SDK's pages allow their scripts from the origin, calls and frames to
// cfg.SDK.LatchURL's origin and inline styles; the scripts are revalidated
// by their ETag (Cache-Control: no-cache).
func New(cfg Config) (http.Handler, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("exampleorigin: Verifier is required")
	}
	if _, err := checkURL("LoginURL", cfg.LoginURL); err != nil {
		return nil, err
	}
	u, err := checkURL("URL", cfg.URL)
	if err != nil {
		return nil, err
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("exampleorigin: URL %q must have no path: the origin serves from /", cfg.URL)
	}
	p := &page{name: cfg.Name, logout: logoutURL(cfg.LoginURL, cfg.URL)}
	if p.name == "" {
		p.name = "Example app"
	}
	mux := http.NewServeMux()
	if cfg.SDK != nil {
		sdk, err := newSDKPages(cfg.SDK, p.name, cfg.LoginURL, cfg.URL)
		if err != nil {
			return nil, err
		}
		sdk.register(mux)
		p.logout = sdkLogoutPath
	}
	mux.Handle("GET /{$}", cfg.Verifier.Middleware(p))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		strictHeaders(w.Header())
		mux.ServeHTTP(w, r)
	}), nil
}

// checkURL accepts an absolute http or https URL with a host and no user
// info, query or fragment.
func checkURL(field, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("exampleorigin: %s is required", field)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("exampleorigin: %s: %w", field, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("exampleorigin: %s %q must be an http or https URL with a host and no user, query or fragment", field, raw)
	}
	return u, nil
}

// strictHeaders sets the headers every answer of the origin carries.
func strictHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// logoutURL is the login page's sign-out, returning to the origin's page.
func logoutURL(loginURL, originURL string) string {
	return strings.TrimSuffix(loginURL, "/") + "/logout?return_to=" + url.QueryEscape(strings.TrimSuffix(originURL, "/")+"/")
}

// ErrorHandler returns the verifier.Config.ErrorHandler of an origin at
// originURL that signs in on the login page at loginURL (Config's URL and
// LoginURL, which New checks). A GET or HEAD without a live session
// (verifier.ErrNoToken, ErrSessionNotFound, an expired or rejected token)
// is redirected, 303, to loginURL?return_to=<the URL asked for>; another
// method is answered 401. When the edge could not be reached to decide
// (verifier.ErrUnavailable, ErrKeysUnavailable) the answer is a 503 page
// asking to try again, never a redirect: the login page would only send
// the visitor back. Nor when the origin itself is at fault (no project
// secret, or one the edge refuses): that is a 500 and a log line for its
// operator, not a loop through the login page.
func ErrorHandler(loginURL, originURL string) func(http.ResponseWriter, *http.Request, error) {
	origin := strings.TrimSuffix(originURL, "/")
	return func(w http.ResponseWriter, r *http.Request, err error) {
		strictHeaders(w.Header())
		var remote *verifier.RemoteError
		switch {
		case errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrKeysUnavailable):
			w.Header().Set("Retry-After", "5")
			render(w, http.StatusServiceUnavailable, unavailableTemplate, requestPath(r))
		case errors.Is(err, verifier.ErrNoSecret) || errors.As(err, &remote) && remote.ErrorType == "unauthorized_credentials":
			slog.Error("exampleorigin: sessions cannot be checked: the origin's project credentials are missing or refused", "err", err)
			render(w, http.StatusInternalServerError, unavailableTemplate, requestPath(r))
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			returnTo := origin + requestPath(r)
			http.Redirect(w, r, loginURL+"?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		default:
			http.Error(w, "Not signed in.", http.StatusUnauthorized)
		}
	}
}

// requestPath is r's path and query, always starting with "/".
func requestPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if r.URL.RawQuery != "" {
		p += "?" + r.URL.RawQuery
	}
	return p
}

// page is the signed-in page.
type page struct {
	name   string
	logout string
}

// pageData is what pageTemplate shows.
type pageData struct {
	Name      string
	Who       string
	Factors   []string
	SessionID string
	Expires   string
	Logout    string
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, ok := verifier.FromContext(r.Context())
	if !ok {
		http.Error(w, "No session.", http.StatusInternalServerError)
		return
	}
	d := pageData{Name: p.name, Who: who(s), SessionID: s.SessionID,
		Expires: s.ExpiresAt.UTC().Format(time.RFC3339), Logout: p.logout}
	for _, f := range s.AuthenticationFactors {
		d.Factors = append(d.Factors, factorName(f))
	}
	render(w, http.StatusOK, pageTemplate, d)
}

// who names the session's user: the email address of its first factor
// that has one, else the user id.
func who(s *verifier.Session) string {
	for _, f := range s.AuthenticationFactors {
		if f.EmailFactor != nil && f.EmailFactor.EmailAddress != "" {
			return f.EmailFactor.EmailAddress
		}
	}
	return s.UserID
}

// factorName is a factor as the page lists it: "password — knowledge".
func factorName(f verifier.AuthenticationFactor) string {
	if f.DeliveryMethod == "" {
		return f.Type
	}
	return f.Type + " — " + f.DeliveryMethod
}

// render answers status with t executed on data, or 500 if it fails.
func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, "Rendering failed.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Name}}</title></head>
<body>
<h1>{{.Name}}</h1>
<p id="greeting">Signed in as {{.Who}}</p>
<h2>How you signed in</h2>
<ul id="factors">
{{- range .Factors}}
<li>{{.}}</li>
{{- end}}
</ul>
<dl>
<dt>Session</dt><dd id="session-id">{{.SessionID}}</dd>
<dt>Expires</dt><dd id="expires"><time datetime="{{.Expires}}">{{.Expires}}</time></dd>
</dl>
<p><a id="logout" href="{{.Logout}}">Sign out</a></p>
</body>
</html>
`))

var unavailableTemplate = template.Must(template.New("unavailable").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign-in is unavailable</title></head>
<body>
<h1 id="unavailable">Sign-in is unavailable, try again</h1>
<p>The sign-in service could not be reached to check your session. <a href="{{.}}">Try again</a> in a moment.</p>
</body>
</html>
`))
