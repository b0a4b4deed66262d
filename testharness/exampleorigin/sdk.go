package exampleorigin

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SDKConfig turns on the origin's second way to sign in: Stytch's
// frontend SDK (@stytch/vanilla-js, its prebuilt login UI), loaded from
// the origin itself and pointed at Latch's /sdk/v1 surface. Latch must
// serve that surface under PublicToken to this origin (LATCH_PUBLIC_TOKEN
// and LATCH_SDK_ORIGINS on the Worker, testharness.Config.SDKOrigins).
//
// The SDK keeps the session in the stytch_session and stytch_session_jwt
// cookies on this origin, written from JavaScript, so the Verifier should
// set verifier.Config.CookieScriptReadable: an HttpOnly JWT cookie the
// middleware refreshed would hide the SDK's own from it.
type SDKConfig struct {
	// PublicToken is the project's public token, as the SDK is given it;
	// required.
	PublicToken string
	// LatchURL is the base URL the SDK calls, /sdk/v1/… below it, e.g.
	// http://127.0.0.1:8787; required. Latch also serves the SDK's helper
	// iframe there, at /sdk/clientside-services/index.html.
	LatchURL string
	// Script is the SDK's browser build, the iife that defines the global
	// stytch (node_modules/@stytch/vanilla-js/dist/iife/index.js);
	// required.
	Script []byte
}

// The paths of the SDK sign-in.
const (
	sdkLoginPath  = "/sdk-login"
	sdkLogoutPath = "/sdk-logout"
	sdkScriptPath = "/sdk/stytch.js"
	sdkFramePath  = "/sdk/clientside-services/index.html" // on Latch
)

// The pages' own code: no inline script, so that script-src is 'self'.
var (
	//go:embed sdk-login.js
	sdkLoginJS string
	//go:embed sdk-logout.js
	sdkLogoutJS string
)

// sdkPages serves the SDK sign-in.
type sdkPages struct {
	data   pageSDK
	csp    string
	script []byte // the SDK's
}

// pageSDK is what the SDK pages show and their scripts read.
type pageSDK struct {
	Name        string
	PublicToken string
	LatchURL    string // without a trailing slash
	FrameURL    string
	LoginURL    string // the hosted login page, returning to the origin's page
	LogoutURL   string // the hosted login page's sign-out
}

// newSDKPages checks c; name is the origin's, loginURL the hosted login
// page and originURL the origin (both checked by New).
func newSDKPages(c *SDKConfig, name, loginURL, originURL string) (*sdkPages, error) {
	if c.PublicToken == "" {
		return nil, errors.New("exampleorigin: SDK.PublicToken is required")
	}
	latch, err := checkURL("SDK.LatchURL", c.LatchURL)
	if err != nil {
		return nil, err
	}
	if len(c.Script) == 0 {
		return nil, errors.New("exampleorigin: SDK.Script is required")
	}
	base := strings.TrimSuffix(c.LatchURL, "/")
	origin := (&url.URL{Scheme: latch.Scheme, Host: latch.Host}).String()
	home := strings.TrimSuffix(originURL, "/") + "/"
	return &sdkPages{
		script: bytes.Clone(c.Script),
		data: pageSDK{
			Name: name, PublicToken: c.PublicToken, LatchURL: base, FrameURL: base + sdkFramePath,
			LoginURL:  loginURL + "?return_to=" + url.QueryEscape(home),
			LogoutURL: logoutURL(loginURL, originURL),
		},
		// The prebuilt UI injects <style> elements; its fonts are the
		// system's and its images inline SVG, so it needs nothing more.
		csp: "default-src 'none'; script-src 'self'; connect-src " + origin + "; frame-src " + origin +
			"; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}, nil
}

// register adds the SDK sign-in's routes to mux.
func (s *sdkPages) register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+sdkLoginPath, s.page(sdkLoginTemplate))
	mux.HandleFunc("GET "+sdkLogoutPath, s.page(sdkLogoutTemplate))
	mux.HandleFunc("GET "+sdkScriptPath, script(s.script))
	mux.HandleFunc("GET "+sdkLoginPath+".js", script([]byte(sdkLoginJS)))
	mux.HandleFunc("GET "+sdkLogoutPath+".js", script([]byte(sdkLogoutJS)))
}

// page serves t with the SDK pages' policy.
func (s *sdkPages) page(t *template.Template) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", s.csp)
		render(w, http.StatusOK, t, s.data)
	}
}

// script serves JavaScript that the browser revalidates by its ETag.
func script(body []byte) http.HandlerFunc {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}
}

var sdkLoginTemplate = template.Must(template.New("sdk-login").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to {{.Name}}</title>
<script src="/sdk/stytch.js" defer></script>
<script src="/sdk-login.js" defer></script>
</head>
<body>
<main id="sdk" data-public-token="{{.PublicToken}}" data-latch-url="{{.LatchURL}}" data-frame-url="{{.FrameURL}}">
<h1>Sign in to {{.Name}}</h1>
<div id="login"></div>
<noscript><p>This sign-in runs Stytch's frontend SDK, which needs JavaScript.</p></noscript>
<p><a id="hosted-login" href="{{.LoginURL}}">Sign in on Latch's login page instead</a></p>
</main>
</body>
</html>
`))

var sdkLogoutTemplate = template.Must(template.New("sdk-logout").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign out of {{.Name}}</title>
<script src="/sdk/stytch.js" defer></script>
<script src="/sdk-logout.js" defer></script>
</head>
<body>
<main id="sdk" data-public-token="{{.PublicToken}}" data-latch-url="{{.LatchURL}}" data-frame-url="{{.FrameURL}}" data-logout-url="{{.LogoutURL}}">
<h1>Sign out of {{.Name}}</h1>
<p><button id="logout-submit" type="button" disabled>Sign out</button></p>
<p id="status" role="status"></p>
<noscript><p>This sign-out runs Stytch's frontend SDK, which needs JavaScript.</p></noscript>
</main>
</body>
</html>
`))
