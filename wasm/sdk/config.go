package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/latchauth/latch/wasm/engine"
)

// Config configures the SDK surface. API, ProjectID, Secret, PublicToken
// and Origins are required; the rest have defaults.
type Config struct {
	// API is the engine: every SDK call is one or two of its endpoints,
	// called in process with the project credentials. Requests outside
	// /sdk/ are passed to it unchanged.
	API http.Handler
	// ProjectID and Secret are the project credentials the surface calls
	// the API with. They never leave the process.
	ProjectID string
	Secret    string
	// PublicToken is the project's public token, public-token-test-<uuid>
	// for a test project and public-token-live-<uuid> for a live one
	// (NewPublicToken). It is not a secret: it names the project to the
	// SDK, which sends it in every call, and grants only what this surface
	// allows.
	PublicToken string
	// Origins are the app origins ("https://app.example.com",
	// "http://127.0.0.1:3000": scheme, host and port, nothing else) whose
	// pages may call the surface. A request from any other origin is
	// refused, by the server and not only by the browser's CORS check.
	Origins []string
	// HTTPOnlyCookies, when set, has the surface hold the browser's
	// session itself: a login's answer sets stytch_session and
	// stytch_session_jwt as HttpOnly cookies (SameSite=Lax, Path=/, on
	// CookieDomain) and leaves session_token and session_jwt empty in its
	// body, so that no script on the app's pages can read them; a call
	// whose Basic password is the public token is then the cookie's
	// session. The browser sends the cookies only when Latch is served on
	// the app's site, e.g. auth.example.com for app.example.com, and
	// Stytch's SDK keeps such a session across page loads only with its
	// customBaseUrl option (README.md, "Use Stytch's frontend SDK"). Off
	// by default.
	HTTPOnlyCookies bool
	// CookieDomain is the Domain of those cookies, e.g. "example.com";
	// host-only when empty.
	CookieDomain string
	// ProjectName names the project in the bootstrap ("Latch" when empty).
	ProjectName string
	// ClientIP names the client of a request, the key of the per-client
	// limits: the Worker passes the CF-Connecting-IP header; the host of
	// RemoteAddr when nil. (Sessions started through the surface record
	// no client details; the hosted login page's do.)
	ClientIP func(*http.Request) string
	// Limit, when set, is asked first for each call that mails or checks
	// a secret, with the client's key: false refuses the call with 429, as
	// the surface's own count per process does. An error is logged and the
	// surface's own count decides.
	Limit func(ctx context.Context, key string) (bool, error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives one line per refused call, never a token, code,
	// password or address; discarded when nil.
	Logger *slog.Logger
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("sdk: invalid config")

// NewPublicToken returns a fresh public token for the project projectID:
// public-token-live-<uuid> for a live project, public-token-test-<uuid>
// otherwise.
func NewPublicToken(projectID string) string {
	return "public-token-" + engine.EnvOf(projectID) + "-" + uuid.NewString()
}

// checkPublicToken reports whether token is a public token of the
// project's environment.
func checkPublicToken(projectID, token string) error {
	prefix := "public-token-" + engine.EnvOf(projectID) + "-"
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return fmt.Errorf("%w: PublicToken must start with %q", ErrConfig, prefix)
	}
	if _, err := uuid.Parse(rest); err != nil || len(rest) != 36 {
		return fmt.Errorf("%w: PublicToken must be %s<uuid>", ErrConfig, prefix)
	}
	return nil
}

// ParseOrigin checks that raw is an origin as a browser sends it in its
// Origin header (scheme "http" or "https", a host, an optional port, no
// path, query, fragment or user info) and returns it in that form.
func ParseOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q is not scheme://host[:port]", raw)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}
