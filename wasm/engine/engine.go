// Package engine is Latch's session engine: users, magic links, passwords,
// sessions and their JWTs behind an http.Handler that speaks the Stytch
// consumer API (see API.md). It is plain Go with no platform imports; each
// host (the Worker, the wazero harness, native tests) passes in its store,
// signer, clock and randomness through Config.
package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchauth/latch/wasm/oauth"
)

// Config is what a host gives the engine. ProjectID, Secret, DB and Signer
// are required; the rest have safe defaults.
type Config struct {
	// ProjectID names the project, e.g. "project-test-<uuid>". A project id
	// starting with "project-live-" makes every id the engine mints a live
	// one; anything else is test.
	ProjectID string
	// Secret is the project secret clients present with Basic auth.
	Secret string
	// DB is the store: SQLite dialect, schema from wasm/migrations. The
	// engine never opens transactions (D1 has none); see RATIONALE.md, "Why
	// no transactions?".
	DB *sql.DB
	// Signer signs session JWTs and lists the keys published in the JWKS.
	Signer Signer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of token and id randomness; crypto/rand when nil.
	Rand io.Reader
	// Logger receives one line per failed request, never a secret;
	// discarded when nil.
	Logger *slog.Logger
	// PasswordHasher hashes and checks passwords; DefaultPasswordHasher when nil.
	PasswordHasher PasswordHasher

	// Mailer delivers magic links, codes and reset links. Without one the
	// email endpoints answer 503 email_delivery_unavailable.
	Mailer Mailer
	// MailFrom is the sender of the engine's mail; required with a Mailer.
	MailFrom string
	// ProjectName names the project in mail; "Latch" when empty.
	ProjectName string
	// RedirectURLs are the URLs mailed links may lead to (absolute http or
	// https); the first is the default when a request names none.
	RedirectURLs []string
	// MailTemplates overrides the built-in messages, by kind (Mail…);
	// a field left empty keeps the built-in one.
	MailTemplates map[string]MailTemplate

	// SecretBox seals TOTP secrets and recovery codes under a key the
	// host holds. Without one the TOTP endpoints answer 503
	// totp_unavailable.
	SecretBox SecretBox
	// Revoked, when set, is called after sessions ended early (revoked,
	// their user deleted, their user's password reset) or an M2M client's
	// tokens did (deactivated, deleted, its secret rotated), once the end
	// is stored: a host that holds revocation feed requests (wait > 0)
	// wakes them. It must not block.
	Revoked func()
	// Later, when set, runs work once the answer to the request of ctx
	// has gone out; it must not block. The Worker hands it to the
	// request's waitUntil. Only writes no answer depends on go through
	// it (a session's last_accessed_at, a password login's cleared
	// failure count); without Later they run before the answer.
	Later func(ctx context.Context, work func(context.Context))

	// OAuthProviders are the social login providers, as
	// oauth.ParseProviders read them; social login is off when empty.
	// They need a Fetcher, a SecretBox (the providers' tokens are stored
	// sealed) and a PublicToken.
	OAuthProviders []oauth.Provider
	// Fetcher makes the engine's outbound requests to those providers.
	Fetcher oauth.Fetcher
	// PublicToken is the project's public token, which every OAuth start
	// URL carries (public-token-test-<uuid>).
	PublicToken string
	// BaseURL is where browsers reach this host ("https://auth.example.com",
	// no path): the OAuth callback registered at providers is BaseURL +
	// "/v1/oauth/callback". When empty, the start request's own scheme and
	// host are used.
	BaseURL string

	// WebAuthnOrigins are the origins passkey and security key ceremonies
	// may come from ("https://app.example.com", "http://localhost:3000":
	// https, or http on a loopback host). A ceremony's domain (its
	// relying party ID) must be the host of one of them or a parent
	// domain of it. WebAuthn is off when empty.
	WebAuthnOrigins []string
}

// Engine serves the Latch API. It holds no global state: any number of
// engines may live in one process.
type Engine struct {
	cfg    Config
	env    string
	mux    *http.ServeMux
	hasher PasswordHasher
	// wantUser and wantPass are SHA-256 of the project credentials.
	wantUser, wantPass [32]byte
	// header is the JWT header of the key that signed last.
	header atomic.Pointer[jwtHeader]
	// templates are the parsed mail templates, by kind.
	templates map[string]*mailTemplate
	// otpKey keys the HMAC under which one-time codes are stored.
	otpKey [32]byte
	// oauth holds a client per configured provider, by name.
	oauth map[string]*oauth.Client
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("engine: invalid config")

// New checks cfg and returns an engine ready to serve.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.ProjectID == "":
		return nil, fmt.Errorf("%w: missing ProjectID", ErrConfig)
	case cfg.Secret == "":
		return nil, fmt.Errorf("%w: missing Secret", ErrConfig)
	case cfg.DB == nil:
		return nil, fmt.Errorf("%w: missing DB", ErrConfig)
	case cfg.Signer == nil:
		return nil, fmt.Errorf("%w: missing Signer", ErrConfig)
	case len(cfg.Signer.PublicKeys()) == 0:
		return nil, fmt.Errorf("%w: signer has no keys", ErrConfig)
	}
	signs := false
	for _, k := range cfg.Signer.PublicKeys() {
		if _, err := decodePublicKey(k); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		signs = signs || (k.KID == cfg.Signer.KeyID() && k.RetiredAt == 0)
	}
	if !signs {
		return nil, fmt.Errorf("%w: the signing key %q is not among the signer's unretired keys", ErrConfig, cfg.Signer.KeyID())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ProjectName == "" {
		cfg.ProjectName = "Latch"
	}
	if cfg.Mailer != nil && cfg.MailFrom == "" {
		return nil, fmt.Errorf("%w: a Mailer needs MailFrom", ErrConfig)
	}
	if err := checkRedirectURLs(cfg.RedirectURLs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := checkWebAuthnOrigins(cfg.WebAuthnOrigins); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := checkOAuthConfig(cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	templates, err := parseTemplates(cfg.MailTemplates)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	e := &Engine{
		cfg: cfg, env: EnvOf(cfg.ProjectID), hasher: cfg.PasswordHasher,
		wantUser: sha256.Sum256([]byte(cfg.ProjectID)), wantPass: sha256.Sum256([]byte(cfg.Secret)),
		templates: templates, oauth: newOAuthClients(cfg), otpKey: sha256.Sum256([]byte("latch one-time code key\x00" + cfg.Secret)),
	}
	if e.hasher == nil {
		e.hasher = DefaultPasswordHasher()
	}
	e.mux = e.newMux()
	return e, nil
}

// EnvOf returns "live" for a live project id and "test" for any other.
func EnvOf(projectID string) string {
	if strings.HasPrefix(projectID, "project-live-") {
		return "live"
	}
	return "test"
}

// ServeHTTP answers one API request.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.serve(w, r)
}

// later runs work once the answer to ctx's request has gone out
// (Config.Later), or at once when the host has no such hook. Its context
// is not cancelled by the request's end.
func (e *Engine) later(ctx context.Context, work func(context.Context)) {
	ctx = context.WithoutCancel(ctx)
	if e.cfg.Later == nil {
		work(ctx)
		return
	}
	e.cfg.Later(ctx, work)
}
