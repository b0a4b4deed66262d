package loginpage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchauth/latch/wasm/internal/ratelimit"
)

// Config configures the login page. API, ProjectID, Secret, URL and
// ReturnURLs are required; the rest have defaults.
type Config struct {
	// API is the engine: every sign-in step is one of its endpoints,
	// called in process with the project credentials. Requests outside
	// the page's path are passed to it unchanged.
	API http.Handler
	// ProjectID and Secret are the project credentials the page calls
	// the API with.
	ProjectID string
	Secret    string
	// URL is the page's public absolute URL, e.g.
	// https://auth.example.com/login: https, or http to a loopback host
	// for local development. Its path is where the page is served; the
	// page's links and forms are built from it, never from the request's
	// Host.
	URL string
	// ReturnURLs are where a browser may be sent after signing in or out
	// (absolute http or https URLs, without user info or fragment); the
	// first is the default. A return_to is allowed when its scheme and
	// host (with port) equal an entry's and its path equals the entry's
	// path, or lies under it when the entry's path ends in "/". Its query
	// is kept.
	ReturnURLs []string
	// CookieDomain is the Domain of the session cookies, e.g.
	// "example.com" to share them with app.example.com; host-only when
	// empty.
	CookieDomain string
	// InsecureUnboundLinks lets the page spend sign-in links sent without
	// a code_challenge: by the app through the API, or by anyone through
	// the SDK surface. Such a link signs in whichever browser opens it, so
	// a link its sender had mailed to their own inbox and then forwarded
	// signs the recipient in as the sender (login CSRF). Off, the page
	// spends only the links it sent, in the browser that asked. See
	// RATIONALE.md, "Why is a sign-in link bound to the browser that asked
	// for it?".
	InsecureUnboundLinks bool
	// SessionDurationMinutes is the lifetime of the sessions the page
	// starts; 7 days when zero.
	SessionDurationMinutes int

	// OAuthProviders are the social login providers the page offers, a
	// "Continue with …" link each, in this order: providers the engine is
	// configured with (engine.Config.OAuthProviders), by name. None when
	// empty.
	OAuthProviders []OAuthProvider
	// PublicToken is the project's public token, which the engine's OAuth
	// start URL takes; required with OAuthProviders.
	PublicToken string

	// WebAuthnOrigins are the origins the engine allows passkey
	// ceremonies from (engine.Config.WebAuthnOrigins). When the page's own
	// origin (of URL) is one of them, the page offers "Sign in with a
	// passkey" (its one script): a discoverable passkey whose relying
	// party ID is the page's host name, which must then be a domain name,
	// not an IP address (localhost for a page on loopback). No passkeys
	// when the page's origin is not listed.
	WebAuthnOrigins []string

	// Theme: the project's name (the heading and the page title; "Latch"
	// when empty), a logo (an https URL, or http to a loopback host) and
	// colours.
	Name    string
	LogoURL string
	Colors  Colors

	// ClientIP names the client of a request, the key of the page's rate
	// limit and the IP recorded on the session: the Worker passes the
	// CF-Connecting-IP header; the host of RemoteAddr when nil.
	ClientIP func(*http.Request) string
	// Limit, when set, is asked first for each post with the client's key
	// (its IP, an IPv6 address as its /64): false refuses the post with
	// 429, as the page's own count per process does. The Worker passes
	// Cloudflare's Rate Limiting binding LOGIN_LIMIT, which counts across
	// isolates. An error is logged and the page's own count decides.
	Limit func(ctx context.Context, key string) (bool, error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of CSRF secrets and of the PKCE verifiers of
	// sign-in links; crypto/rand when nil.
	Rand io.Reader
	// Logger receives one line per failed step, never a token, code,
	// password or address; discarded when nil.
	Logger *slog.Logger
}

// Colors are the page's colours, each "#rgb" or "#rrggbb"; an empty one
// keeps the built-in colour.
type Colors struct {
	Accent     string // buttons and links
	Background string
	Text       string
}

// OAuthProvider is one social login provider the page offers.
type OAuthProvider struct {
	// Name is the provider's name in the engine's configuration, the
	// {provider} of its start URL.
	Name string
	// DisplayName is what the page calls it ("Continue with
	// DisplayName"): Google for google, GitHub for github, and Name
	// itself for any other when empty.
	DisplayName string
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("loginpage: invalid config")

// Default settings.
const (
	defaultSessionMinutes = 7 * 24 * 60
	maxSessionMinutes     = 366 * 24 * 60
	// pendingMinutes is the lifetime of the pending cookie: that of the
	// intermediate session it holds, which the API ends after 10 minutes.
	pendingMinutes = 10
)

// settings is a checked Config.
type settings struct {
	Config
	page       *url.URL // URL, parsed
	path       string   // the page's path, no trailing slash ("" at the root)
	origin     string   // scheme://host of URL
	returns    []*url.URL
	insecure   bool   // plain HTTP on loopback: cookies without Secure
	csrfName   string // the CSRF cookie's name
	csrfKey    [32]byte
	magicURL   string // where mailed sign-in links lead (LinkURLs)
	resetURL   string // where mailed reset links lead
	oauthURL   string // where social logins come back (LinkURLs)
	formsTo    string // CSP form-action sources
	imagesFrom string // CSP img-src sources
	csp        string // the Content-Security-Policy of every answer
	// With passkeys (WebAuthnOrigins names the page's origin): the
	// relying party ID, and the script's CSP hash source and URL; all ""
	// without.
	rpID       string
	scriptHash string
	scriptURL  string
}

// check validates c and fills in its defaults.
func (c Config) check() (*settings, error) {
	switch {
	case c.API == nil:
		return nil, fmt.Errorf("%w: missing API", ErrConfig)
	case c.ProjectID == "" || c.Secret == "":
		return nil, fmt.Errorf("%w: missing project credentials", ErrConfig)
	case len(c.ReturnURLs) == 0:
		return nil, fmt.Errorf("%w: no return URLs", ErrConfig)
	case c.SessionDurationMinutes < 0 || c.SessionDurationMinutes > maxSessionMinutes:
		return nil, fmt.Errorf("%w: SessionDurationMinutes %d is not within 0..%d", ErrConfig, c.SessionDurationMinutes, maxSessionMinutes)
	}
	s := &settings{Config: c}
	var err error
	if s.page, err = publicURL(c.URL); err != nil {
		return nil, fmt.Errorf("%w: URL: %w", ErrConfig, err)
	}
	if s.page.RawQuery != "" || s.page.ForceQuery {
		return nil, fmt.Errorf("%w: URL %q has a query", ErrConfig, c.URL)
	}
	s.path = strings.TrimSuffix(s.page.EscapedPath(), "/")
	links, err := LinkURLs(c.URL)
	if err != nil {
		return nil, err
	}
	s.magicURL, s.resetURL, s.oauthURL = links[0], links[1], links[2]
	if s.OAuthProviders, err = checkProviders(c.OAuthProviders, c.PublicToken); err != nil {
		return nil, err
	}
	s.origin = s.page.Scheme + "://" + s.page.Host
	s.insecure = s.page.Scheme == "http"
	forms := []string{"'self'"}
	for _, raw := range c.ReturnURLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			return nil, fmt.Errorf("%w: return URL %q is not an absolute http(s) URL without user info or fragment", ErrConfig, raw)
		}
		s.returns = append(s.returns, u)
		if o := u.Scheme + "://" + u.Host; o != s.origin && !slices.Contains(forms, o) {
			forms = append(forms, o)
		}
	}
	s.formsTo = strings.Join(forms, " ")
	s.imagesFrom = "'self'"
	if c.LogoURL != "" {
		u, err := publicURL(c.LogoURL)
		if err != nil {
			return nil, fmt.Errorf("%w: LogoURL: %w", ErrConfig, err)
		}
		if o := u.Scheme + "://" + u.Host; o != s.origin {
			s.imagesFrom += " " + o
		}
	}
	if err := s.passkeySettings(c.WebAuthnOrigins); err != nil {
		return nil, err
	}
	s.csp = "default-src 'none'; style-src 'self'; img-src " + s.imagesFrom
	if s.rpID != "" {
		// The passkey script alone, and its calls to the page.
		s.csp += "; script-src '" + s.scriptHash + "'; connect-src 'self'"
	}
	s.csp += "; form-action " + s.formsTo + "; frame-ancestors 'none'; base-uri 'none'"
	for name, v := range map[string]string{"Accent": c.Colors.Accent, "Background": c.Colors.Background, "Text": c.Colors.Text} {
		if v != "" && !isHexColor(v) {
			return nil, fmt.Errorf("%w: colour %s %q is not #rgb or #rrggbb", ErrConfig, name, v)
		}
	}
	if c.CookieDomain != "" {
		ck := http.Cookie{Name: tokenCookie, Value: "x", Domain: c.CookieDomain}
		if err := ck.Valid(); err != nil || strings.ContainsAny(c.CookieDomain, ":/ ") {
			return nil, fmt.Errorf("%w: CookieDomain %q is not a domain", ErrConfig, c.CookieDomain)
		}
		host := strings.ToLower(s.page.Hostname())
		d := strings.ToLower(strings.TrimPrefix(c.CookieDomain, "."))
		if host != d && !strings.HasSuffix(host, "."+d) {
			return nil, fmt.Errorf("%w: CookieDomain %q does not cover the page's host %q", ErrConfig, c.CookieDomain, host)
		}
	}
	if s.SessionDurationMinutes == 0 {
		s.SessionDurationMinutes = defaultSessionMinutes
	}
	if s.Name == "" {
		s.Name = "Latch"
	}
	if s.ClientIP == nil {
		s.ClientIP = ratelimit.RemoteHost
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Rand == nil {
		s.Rand = rand.Reader
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	// A cookie named __Host- is only ever set Secure, by its host, for
	// Path=/, so neither a sibling subdomain nor plain HTTP can plant one.
	s.csrfName = "__Host-latch_csrf"
	if s.insecure {
		s.csrfName = "latch_csrf"
	}
	s.csrfKey = sha256.Sum256([]byte("latch login page csrf key\x00" + c.Secret))
	return s, nil
}

// LinkURLs are where links from elsewhere lead back to the page, for a
// page served at pageURL: its mailed sign-in links (path /magic), password
// reset links (/reset), and the engine's redirect at the end of a social
// login (/oauth). The engine's allow-list of redirect URLs must hold them
// all (the hosts add them); their query (return_to) varies.
func LinkURLs(pageURL string) ([]string, error) {
	u, err := publicURL(pageURL)
	if err != nil {
		return nil, fmt.Errorf("%w: URL: %w", ErrConfig, err)
	}
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	return []string{base + pathMagic, base + pathReset, base + pathOAuth}, nil
}

// publicURL parses an absolute https URL, or http to a loopback host,
// without user info or fragment.
func publicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not an absolute URL without user info or fragment", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%q is not https (http only to a loopback host)", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isHexColor(v string) bool {
	if len(v) != 4 && len(v) != 7 || v[0] != '#' {
		return false
	}
	for _, c := range v[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
