package engine

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchauth/latch/wasm/oauth"
)

// Social login, Stytch's OAuth flow. The browser goes to the start URL
// (GET /v1/public/oauth/{provider}/start, public, named by the project's
// public token), which stores a state, binds it to the browser with a
// short-lived cookie, and sends it on to the provider. The provider sends
// it back to Latch's one callback (GET /v1/oauth/callback), which checks
// the state and the cookie, trades the code for the user's identity
// (wasm/oauth), links it to a user and sends the browser to the app's URL
// with a token; the app's backend redeems the token with
// oauth/authenticate for a session. See RATIONALE.md, "Social login".
const (
	// oauthStateMinutes bounds the hop through the provider, and
	// oauthTokenMinutes the life of the token the app redeems.
	oauthStateMinutes  = 10
	oauthTokenMinutes  = 10
	oauthAttachMinutes = 10
	// oauthCookiePrefix names the browser binding cookie of one start;
	// the rest of the name comes from its state, so that two logins in
	// one browser do not overwrite each other's.
	oauthCookiePrefix = "latch_oauth_"
	callbackPath      = "/v1/oauth/callback"
	maxProviderParams = 16
	maxParamBytes     = 512
	maxCustomScopes   = 16
)

var (
	errNoPublicToken      = newError(http.StatusUnauthorized, "invalid_public_token", "public_token is missing or is not this project's.")
	errOAuthProvider      = newError(http.StatusNotFound, "oauth_provider_not_found", "No OAuth provider of that name is configured.")
	errOAuthState         = newError(http.StatusBadRequest, "oauth_invalid_state", "The OAuth state is unknown, was used, has expired, or belongs to another browser. Start the login again.")
	errOAuthProviderError = newError(http.StatusUnauthorized, "oauth_provider_refused", "The provider did not sign the user in.")
	errOAuthExchange      = newError(http.StatusUnauthorized, "oauth_token_exchange_failed", "The provider refused the authorization code: it was used, has expired, or was issued for another client.")
	errOAuthIDToken       = newError(http.StatusUnauthorized, "oauth_invalid_id_token", "The provider's ID token failed a check (signature, issuer, audience, nonce or expiry).")
	errOAuthUnavailable   = newError(http.StatusBadGateway, "oauth_provider_unavailable", "The provider could not be reached or answered unexpectedly. Try again.")
	errOAuthTokenNotFound = newError(http.StatusNotFound, "oauth_token_not_found", "The OAuth token could not be found.")
	errOAuthTokenUsed     = newError(http.StatusUnauthorized, "unable_to_auth_oauth_token", "The OAuth token was already used, has expired, or the user's credentials changed since it was issued.")
	errOAuthAttach        = newError(http.StatusBadRequest, "invalid_oauth_attach_token", "The oauth_attach_token is unknown, was used, has expired, or is for another provider.")
	errOAuthLinked        = newError(http.StatusConflict, "oauth_user_registration_exists", "This provider account already belongs to another user.")
	errOAuthPKCE          = newError(http.StatusBadRequest, "pkce_mismatch", "The code_verifier does not match the code_challenge the OAuth flow was started with.")
)

// newOAuthClients builds one oauth.Client per configured provider.
func newOAuthClients(cfg Config) map[string]*oauth.Client {
	if len(cfg.OAuthProviders) == 0 {
		return nil
	}
	m := make(map[string]*oauth.Client, len(cfg.OAuthProviders))
	for _, p := range cfg.OAuthProviders {
		m[p.Name] = oauth.NewClient(p, cfg.Fetcher, cfg.Now)
	}
	return m
}

// callbackURL is Latch's callback as registered at providers.
func (e *Engine) callbackURL(r *http.Request) string {
	if e.cfg.BaseURL != "" {
		return strings.TrimSuffix(e.cfg.BaseURL, "/") + callbackPath
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.URL.Scheme, "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + callbackPath
}

// stateSecrets are what a start keeps sealed for its callback.
type stateSecrets struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// oauthStart is the start URL's query.
type oauthStart struct {
	provider      *oauth.Client
	login, signup string
	challenge     string
	scopes        []string
	params        url.Values
	attachToken   string
}

// readOAuthStart checks the start URL's query.
func (e *Engine) readOAuthStart(r *http.Request) (*oauthStart, error) {
	q := r.URL.Query()
	tok := q.Get("public_token")
	if e.cfg.PublicToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(e.cfg.PublicToken)) != 1 {
		return nil, errNoPublicToken
	}
	s := &oauthStart{provider: e.oauth[r.PathValue("provider")], params: url.Values{}}
	if s.provider == nil {
		return nil, errOAuthProvider
	}
	var err error
	if s.login, err = e.redirectURL(q.Get("login_redirect_url")); err != nil {
		return nil, err
	}
	if s.signup, err = e.redirectURL(q.Get("signup_redirect_url")); err != nil {
		return nil, err
	}
	s.challenge = q.Get("code_challenge")
	if err := checkChallenge(s.challenge); err != nil {
		return nil, err
	}
	s.scopes = strings.Fields(q.Get("custom_scopes"))
	if len(s.scopes) > maxCustomScopes || len(q.Get("custom_scopes")) > maxParamBytes {
		return nil, badRequest("custom_scopes may name at most %d scopes.", maxCustomScopes)
	}
	for _, sc := range s.scopes {
		if hasControl(sc) || strings.ContainsAny(sc, `"\`) {
			return nil, badRequest("custom_scopes holds an invalid scope.")
		}
	}
	for k, vs := range q {
		name, ok := strings.CutPrefix(k, "provider_")
		if !ok {
			continue
		}
		if name == "" || len(s.params) >= maxProviderParams || len(vs) != 1 || len(vs[0]) > maxParamBytes || hasControl(vs[0]) {
			return nil, badRequest("provider_ parameters: at most %d, each once, each value at most %d bytes.", maxProviderParams, maxParamBytes)
		}
		s.params.Set(name, vs[0])
	}
	s.attachToken = q.Get("oauth_attach_token")
	return s, nil
}

// GET /v1/public/oauth/{provider}/start — sends the browser to the
// provider. Nothing is stored until every parameter checked out.
func (e *Engine) startOAuth(c *call) error {
	s, err := e.readOAuthStart(c.r)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	var secrets stateSecrets
	var state, browser string
	for _, v := range []*string{&state, &browser, &secrets.Nonce, &secrets.Verifier} {
		if *v, err = e.newMagicLinkToken(); err != nil {
			return err
		}
		*v = strings.TrimRight(*v, "=")
	}
	raw, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("engine: oauth state: %w", err)
	}
	sealed, err := e.cfg.SecretBox.Seal(ctx, raw)
	if err != nil {
		return fmt.Errorf("engine: oauth state: %w", err)
	}
	redirect := e.callbackURL(c.r)
	authURL, err := s.provider.AuthURL(ctx, oauth.AuthRequest{
		RedirectURI: redirect, State: state, Nonce: secrets.Nonce, Verifier: secrets.Verifier,
		Scopes: s.scopes, Params: s.params,
	})
	if errors.Is(err, oauth.ErrParam) {
		return badRequest("%s", strings.TrimPrefix(err.Error(), "oauth: "))
	}
	if err != nil {
		return e.oauthFailure(c, err)
	}
	// The attach token is spent last, once nothing else can refuse the
	// start, so that a refused start leaves it usable.
	attachTo := ""
	if s.attachToken != "" {
		if attachTo, err = e.consumeAttachToken(ctx, s.attachToken, s.provider.Provider().Name); err != nil {
			return err
		}
	}
	now := e.now()
	stateHash := hashToken(state)
	if _, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO oauth_states (state_hash, browser_hash, provider, sealed,
		code_challenge, login_redirect_url, signup_redirect_url, attach_user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, stateHash, hashToken(browser), s.provider.Provider().Name,
		base64.StdEncoding.EncodeToString(sealed), s.challenge, s.login, s.signup, attachTo, now, now+oauthStateMinutes*60); err != nil {
		return fmt.Errorf("engine: oauth state: %w", err)
	}
	http.SetCookie(c.w, &http.Cookie{
		Name: oauthCookiePrefix + stateHash[:16], Value: browser, Path: callbackPath, MaxAge: oauthStateMinutes * 60,
		HttpOnly: true, Secure: strings.HasPrefix(redirect, "https:"), SameSite: http.SameSiteLaxMode,
	})
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(c.w, c.r, authURL, http.StatusFound)
	return nil
}

// oauthFailure logs why a provider conversation failed (never a token)
// and answers the error the client sees.
func (e *Engine) oauthFailure(c *call, err error) error {
	e.cfg.Logger.Warn("engine: oauth", "request_id", c.requestID, "err", err.Error())
	switch {
	case errors.Is(err, oauth.ErrRefused):
		return errOAuthExchange
	case errors.Is(err, oauth.ErrIDToken):
		return errOAuthIDToken
	default:
		return errOAuthUnavailable
	}
}

// oauthState is a row of oauth_states.
type oauthState struct {
	BrowserHash   string `json:"browser_hash"`
	Provider      string `json:"provider"`
	Sealed        string `json:"sealed"`
	CodeChallenge string `json:"code_challenge"`
	Login         string `json:"login_redirect_url"`
	Signup        string `json:"signup_redirect_url"`
	AttachUserID  string `json:"attach_user_id"`
}

// takeState consumes the state the provider sent back, once, within its
// time, and only for the browser the start bound it to.
func (e *Engine) takeState(c *call, state string) (*oauthState, error) {
	if len(state) != 43 {
		return nil, errOAuthState
	}
	hash := hashToken(state)
	cookieName := oauthCookiePrefix + hash[:16]
	cookie, err := c.r.Cookie(cookieName)
	if err != nil {
		return nil, errOAuthState
	}
	// Spent or not, the cookie has done its work.
	http.SetCookie(c.w, &http.Cookie{Name: cookieName, Path: callbackPath, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	var st oauthState
	err = scanJSON(e.cfg.DB.QueryRowContext(c.r.Context(), `UPDATE oauth_states SET used_at = ?
		WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING json_object('browser_hash', browser_hash, 'provider', provider, 'sealed', sealed,
		'code_challenge', code_challenge, 'login_redirect_url', login_redirect_url,
		'signup_redirect_url', signup_redirect_url, 'attach_user_id', attach_user_id)`, e.now(), hash, e.now()), &st)
	if errors.Is(err, errNoRows) {
		return nil, errOAuthState
	}
	if err != nil {
		return nil, fmt.Errorf("engine: oauth state: %w", err)
	}
	got := sha256.Sum256([]byte(cookie.Value))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(got[:])), []byte(st.BrowserHash)) != 1 {
		return nil, errOAuthState
	}
	return &st, nil
}

// GET /v1/oauth/callback — where providers send the browser back.
func (e *Engine) oauthCallback(c *call) error {
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.Header().Set("Referrer-Policy", "no-referrer")
	q := c.r.URL.Query()
	st, err := e.takeState(c, q.Get("state"))
	if err != nil {
		return err
	}
	client := e.oauth[st.Provider]
	if client == nil {
		return errOAuthProvider
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		e.cfg.Logger.Info("engine: oauth: provider refused", "request_id", c.requestID, "provider", st.Provider, "error", clip(q.Get("error")))
		return errOAuthProviderError
	}
	ctx := c.r.Context()
	sealed, err := base64.StdEncoding.DecodeString(st.Sealed)
	if err != nil {
		return fmt.Errorf("engine: oauth state: %w", err)
	}
	raw, err := e.cfg.SecretBox.Open(ctx, sealed)
	if err != nil {
		return fmt.Errorf("engine: oauth state: %w", err)
	}
	var secrets stateSecrets
	if err := json.Unmarshal(raw, &secrets); err != nil {
		return fmt.Errorf("engine: oauth state: %w", err)
	}
	id, err := client.Exchange(ctx, q.Get("code"), e.callbackURL(c.r), secrets.Verifier, secrets.Nonce)
	if err != nil {
		return e.oauthFailure(c, err)
	}
	u, reg, created, err := e.linkIdentity(ctx, st.Provider, id, st.AttachUserID)
	if err != nil {
		return err
	}
	token, err := e.issueOAuthToken(ctx, u, reg, created, st.CodeChallenge, &id.Tokens)
	if err != nil {
		return err
	}
	to := st.Login
	if created {
		to = st.Signup
	}
	http.Redirect(c.w, c.r, mailedLink(to, "oauth", token), http.StatusFound)
	return nil
}

// issueOAuthToken stores the token the app redeems, with the provider's
// tokens sealed, and returns it.
func (e *Engine) issueOAuthToken(ctx context.Context, u *user, reg string, created bool, challenge string, t *oauth.Tokens) (string, error) {
	token, err := e.newMagicLinkToken()
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("engine: oauth token: %w", err)
	}
	sealed, err := e.cfg.SecretBox.Seal(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("engine: oauth token: %w", err)
	}
	now := e.now()
	if _, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO oauth_tokens (token_hash, user_id, registration_id,
		credentials_version, user_created, code_challenge, sealed, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, hashToken(token), u.ID, reg, u.CredentialsVersion, created,
		challenge, base64.StdEncoding.EncodeToString(sealed), now, now+oauthTokenMinutes*60); err != nil {
		return "", fmt.Errorf("engine: oauth token: %w", err)
	}
	return token, nil
}
