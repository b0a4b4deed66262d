package verifier

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Verifier. ProjectID and BaseURL are required; every
// other field has a safe default. New rejects a Config it cannot use, so
// the zero value fails closed.
type Config struct {
	// ProjectID is the Stytch-style project id (project-test-… or
	// project-live-…). Tokens must name it in aud and iss.
	ProjectID string
	// BaseURL is the edge, e.g. https://auth.example.com. It must be https
	// unless its host is a loopback address.
	BaseURL string
	// Secret is the project secret, used by Authenticate's call to
	// POST /v1/sessions/authenticate and by the revocation feed. Verify
	// works without it, but then cannot see sessions revoked since their
	// JWT was minted.
	Secret string
	// DisableRevocationFeed turns off the revocation feed, which is on
	// whenever Secret is set: one background long-poll of
	// GET /v1/sessions/revocations per Verifier, so that Verify rejects a
	// JWT of a session ended early with ErrRevoked within about a second,
	// and fails with ErrFeedStale (which Authenticate and Middleware take
	// to the edge) while the feed cannot vouch for it. Turned off, Verify
	// sees no revocation until the JWT expires. See verifier/README.md,
	// "Revocation".
	DisableRevocationFeed bool
	// AcceptBaseURLIssuer also accepts iss equal to BaseURL, as Stytch's
	// SDKs do for custom domains.
	AcceptBaseURLIssuer bool

	// Leeway is the clock skew allowed on exp, nbf and iat (0 to 5 minutes).
	Leeway time.Duration
	// MaxTokenAge rejects tokens issued longer ago than this with
	// ErrTooOld, even if exp has not passed; Authenticate then asks the
	// edge, which also catches revoked sessions. 0 means no limit beyond exp.
	MaxTokenAge time.Duration

	// HTTPClient fetches the JWKS and calls the edge. Default: a client
	// with a 10 second timeout.
	HTTPClient *http.Client
	// Logger receives JWKS refresh failures, skipped keys, revocation
	// feed failures and, when ErrorHandler is nil, why Middleware turned
	// a request away. Default: discard. Tokens and secrets are never
	// logged.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// RefreshCooldown is the least time between two JWKS fetches caused by
	// unknown kids or failures. Default 30s; at least 1s.
	RefreshCooldown time.Duration
	// KeyWait bounds how long Verify waits for a JWKS fetch it needs (the
	// first one, or one caused by an unknown kid). Default 2s.
	KeyWait time.Duration
	// MinRefreshInterval and MaxRefreshInterval clamp the JWKS refresh
	// interval taken from Cache-Control: max-age. Defaults 1m and 1h.
	MinRefreshInterval time.Duration
	MaxRefreshInterval time.Duration
	// TokenCacheSize bounds the cache of already verified tokens.
	// Default 4096; negative disables the cache.
	TokenCacheSize int
	// MaxConcurrentFallbacks bounds Authenticate's calls to the edge in
	// flight at once. A call beyond it waits a few seconds for a slot and
	// then fails with ErrBusy. Identical concurrent calls (same token)
	// count once. Default 16.
	MaxConcurrentFallbacks int

	// The stytch_session_jwt cookie Middleware sets when the edge minted a
	// fresh JWT for a cookie-borne session. It is always Secure, except in
	// a response to plain HTTP for a loopback Host (localhost, 127.0.0.1,
	// ::1), so that local development works; behind a TLS-terminating
	// proxy it stays Secure. See verifier/README.md, "The refreshed
	// cookie".
	//
	// CookieDomain is its Domain attribute. Default: none (host-only).
	CookieDomain string
	// CookiePath is its Path attribute. Default "/".
	CookiePath string
	// CookieSameSite is its SameSite attribute: http.SameSiteLaxMode (the
	// default), StrictMode or NoneMode (then always Secure).
	CookieSameSite http.SameSite
	// CookieScriptReadable leaves HttpOnly off, for a frontend that reads
	// stytch_session_jwt from JavaScript (Stytch's frontend SDK does by
	// default). Default: HttpOnly. See RATIONALE.md, "Why is the
	// refreshed JWT cookie HttpOnly by default?".
	CookieScriptReadable bool

	// ErrorHandler answers the requests Middleware turns away; err is what
	// Authenticate returned, matched with errors.Is: ErrNoToken when the
	// request carried no session, ErrSessionNotFound (ErrRevoked too) for
	// a session that ended, ErrUnavailable or ErrKeysUnavailable when the
	// edge could not be reached to decide, and so on. A browser-facing
	// origin sets it to send the visitor to sign in. err's text is for
	// logs, not for the client: it can name the edge's address or a dial
	// error. Nil writes a JSON error with a fixed message (401 with
	// WWW-Authenticate, or 503 when the edge could not be reached) and
	// logs err through Logger.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Test-only: the revocation feed's held-read wait (seconds) and its
	// silence bound; 0 for the defaults, feedWait and feedStaleAfter.
	feedWait  int
	feedStale time.Duration
}

const (
	defaultCooldown      = 30 * time.Second
	defaultKeyWait       = 2 * time.Second
	defaultMinRefresh    = time.Minute
	defaultMaxRefresh    = time.Hour
	defaultRefresh       = 5 * time.Minute
	defaultTokenCache    = 4096
	defaultMaxFallbacks  = 16
	defaultHTTPTimeout   = 10 * time.Second
	maxLeeway            = 5 * time.Minute
	fetchTimeout         = 30 * time.Second
	maxResponseBodyBytes = 1 << 20
)

// settings is a validated Config with defaults filled in.
type settings struct {
	projectID     string
	baseURL       string // without trailing slash
	secret        string
	feed          bool // the revocation feed is on
	feedWait      int  // seconds a feed read may be held
	feedStale     time.Duration
	issuer        string // stytch.com/<project_id>
	altIssuer     string // base URL, or "" when not accepted
	leeway        int64  // seconds
	maxAge        int64  // seconds, 0 = none
	client        *http.Client
	logger        *slog.Logger
	now           func() time.Time
	cooldown      time.Duration
	keyWait       time.Duration
	minRefresh    time.Duration
	maxRefresh    time.Duration
	tokenCacheCap int
	maxFallbacks  int
	cookie        http.Cookie // the refreshed cookie's fixed attributes
	onError       func(http.ResponseWriter, *http.Request, error)
}

func (c Config) validate() (settings, error) {
	s := settings{
		projectID:  c.ProjectID,
		secret:     c.Secret,
		feed:       c.Secret != "" && !c.DisableRevocationFeed,
		feedWait:   c.feedWait,
		feedStale:  orDefault(c.feedStale, feedStaleAfter),
		client:     c.HTTPClient,
		logger:     c.Logger,
		now:        c.Now,
		cooldown:   orDefault(c.RefreshCooldown, defaultCooldown),
		keyWait:    orDefault(c.KeyWait, defaultKeyWait),
		minRefresh: orDefault(c.MinRefreshInterval, defaultMinRefresh),
		maxRefresh: orDefault(c.MaxRefreshInterval, defaultMaxRefresh),
		onError:    c.ErrorHandler,
	}
	if c.ProjectID == "" {
		return s, fmt.Errorf("%w: ProjectID is required", ErrConfig)
	}
	if strings.ContainsAny(c.ProjectID, "/?#% \t\r\n") {
		return s, fmt.Errorf("%w: ProjectID %q has characters a project id never has", ErrConfig, c.ProjectID)
	}
	base, err := checkBaseURL(c.BaseURL)
	if err != nil {
		return s, err
	}
	s.baseURL = base
	s.issuer = "stytch.com/" + c.ProjectID
	if c.AcceptBaseURLIssuer {
		s.altIssuer = base
	}
	switch {
	case c.Leeway < 0 || c.Leeway > maxLeeway:
		return s, fmt.Errorf("%w: Leeway %v outside 0…%v", ErrConfig, c.Leeway, maxLeeway)
	case c.MaxTokenAge < 0:
		return s, fmt.Errorf("%w: MaxTokenAge %v is negative", ErrConfig, c.MaxTokenAge)
	case s.cooldown < time.Second:
		return s, fmt.Errorf("%w: RefreshCooldown %v under 1s", ErrConfig, s.cooldown)
	case s.keyWait < 0:
		return s, fmt.Errorf("%w: KeyWait %v is negative", ErrConfig, s.keyWait)
	case s.minRefresh < time.Second || s.maxRefresh < s.minRefresh:
		return s, fmt.Errorf("%w: refresh interval range %v…%v", ErrConfig, s.minRefresh, s.maxRefresh)
	}
	switch {
	case c.MaxConcurrentFallbacks < 0:
		return s, fmt.Errorf("%w: MaxConcurrentFallbacks %d is negative", ErrConfig, c.MaxConcurrentFallbacks)
	case c.MaxConcurrentFallbacks == 0:
		s.maxFallbacks = defaultMaxFallbacks
	default:
		s.maxFallbacks = c.MaxConcurrentFallbacks
	}
	if s.cookie, err = c.cookie(); err != nil {
		return s, err
	}
	s.leeway = int64(c.Leeway / time.Second)
	s.maxAge = int64(c.MaxTokenAge / time.Second)
	if c.MaxTokenAge > 0 && s.maxAge == 0 {
		s.maxAge = 1
	}
	switch {
	case c.TokenCacheSize < 0:
		s.tokenCacheCap = 0
	case c.TokenCacheSize == 0:
		s.tokenCacheCap = defaultTokenCache
	default:
		s.tokenCacheCap = c.TokenCacheSize
	}
	if s.feedWait == 0 {
		s.feedWait = feedWait
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// checkBaseURL accepts an absolute https URL, or http on a loopback host,
// with no query, fragment or credentials, and returns it without a
// trailing slash.
func checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: BaseURL is required", ErrConfig)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: BaseURL: %w", ErrConfig, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: BaseURL %q must be scheme://host[/path] only", ErrConfig, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%w: BaseURL %q must use https (http is allowed only on loopback)", ErrConfig, raw)
		}
	default:
		return "", fmt.Errorf("%w: BaseURL scheme %q is not https", ErrConfig, u.Scheme)
	}
	return strings.TrimRight(raw, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cookie checks the cookie settings and returns the refreshed cookie's
// fixed attributes.
func (c Config) cookie() (http.Cookie, error) {
	ck := http.Cookie{
		Name:     jwtCookie,
		Value:    "x",
		Domain:   c.CookieDomain,
		Path:     c.CookiePath,
		SameSite: c.CookieSameSite,
		HttpOnly: !c.CookieScriptReadable,
		Secure:   true,
	}
	if ck.Path == "" {
		ck.Path = "/"
	}
	switch ck.SameSite {
	case 0, http.SameSiteDefaultMode:
		ck.SameSite = http.SameSiteLaxMode
	case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		return ck, fmt.Errorf("%w: CookieSameSite %d", ErrConfig, c.CookieSameSite)
	}
	if !strings.HasPrefix(ck.Path, "/") {
		return ck, fmt.Errorf("%w: CookiePath %q must start with /", ErrConfig, c.CookiePath)
	}
	if err := ck.Valid(); err != nil {
		return ck, fmt.Errorf("%w: cookie settings: %w", ErrConfig, err)
	}
	return ck, nil
}

// refreshCookie is the stytch_session_jwt cookie carrying jwt, for a
// session expiring at expires, in the response to r.
func (s *settings) refreshCookie(jwt string, expires time.Time, r *http.Request) *http.Cookie {
	ck := s.cookie
	ck.Value = jwt
	ck.Expires = expires
	if r.TLS == nil && ck.SameSite != http.SameSiteNoneMode && isLoopback(requestHost(r)) {
		ck.Secure = false
	}
	return &ck
}

// requestHost is r's Host without its port.
func requestHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return h
	}
	return strings.Trim(r.Host, "[]")
}
