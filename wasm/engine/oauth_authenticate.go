package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/latchauth/latch/wasm/oauth"
)

// oauthAuthenticate is the body of POST /v1/oauth/authenticate.
type oauthAuthenticate struct {
	Token        string `json:"token"`
	CodeVerifier string `json:"code_verifier"`
	loginArgs
}

func (a *oauthAuthenticate) validate(*Engine) error {
	if a.Token == "" {
		return badRequest("token is required.")
	}
	if len(a.Token) != tokenChars {
		return errOAuthTokenNotFound
	}
	return a.check()
}

// oauthTokenRow is a row of oauth_tokens with what the answer needs of its
// registration.
type oauthTokenRow struct {
	UserID             string `json:"user_id"`
	RegistrationID     string `json:"registration_id"`
	CredentialsVersion int64  `json:"credentials_version"`
	CodeChallenge      string `json:"code_challenge"`
	Used               bool   `json:"used"`
	ExpiresAt          int64  `json:"expires_at"`
	Provider           string `json:"provider"`
	Subject            string `json:"subject"`
	// Sealed are the provider's tokens, read before the token is spent:
	// the statement that spends it clears them, and RETURNING answers the
	// row as it leaves it.
	Sealed string `json:"sealed"`
}

// POST /v1/oauth/authenticate — redeems the token the callback gave the
// app, once, within oauthTokenMinutes, and only while the user's
// credentials are those it was issued under. Everything that could refuse
// the call is checked before the token is spent.
func (e *Engine) authenticateOAuth(c *call) error {
	var a oauthAuthenticate
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	hash := hashToken(a.Token)
	u, row, err := e.oauthToken(ctx, hash)
	if err != nil {
		return err
	}
	if row.Used || row.ExpiresAt <= e.now() || row.CredentialsVersion != u.CredentialsVersion {
		return errOAuthTokenUsed
	}
	if err := checkPKCE(row.CodeChallenge, a.CodeVerifier); err != nil {
		return errOAuthPKCE
	}
	stepUp, err := e.stepUpSession(ctx, &a.sessionArgs, u.ID)
	if err != nil {
		return err
	}
	tokens, err := e.spendOAuthToken(ctx, hash, row.Sealed)
	if err != nil {
		return err
	}
	f := factor{Type: "oauth", DeliveryMethod: "oauth_" + row.Provider}
	of := &oauthFactor{ID: row.RegistrationID, ProviderSubject: row.Subject, EmailID: u.EmailID}
	switch row.Provider {
	case oauth.KindGoogle:
		f.GoogleOAuth = of
	case oauth.KindGitHub:
		f.GithubOAuth = of
	default:
		f.OAuth = of
	}
	return e.finishFactorLogin(c, &a.sessionArgs, ending{stepUp: stepUp, requireMFA: a.RequireMFA}, u, f, map[string]any{
		"provider_subject":           row.Subject,
		"provider_type":              providerType(row.Provider),
		"provider_values":            providerValues(tokens),
		"oauth_user_registration_id": row.RegistrationID,
		"reset_sessions":             false,
	})
}

// oauthToken reads the token whose hash is hash, and in the same
// statement its user; a token whose user is gone is not found.
func (e *Engine) oauthToken(ctx context.Context, hash string) (*user, *oauthTokenRow, error) {
	var rawRow, rawUser []byte
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT json_object('user_id', t.user_id,
		'registration_id', t.registration_id, 'credentials_version', t.credentials_version,
		'code_challenge', t.code_challenge, 'used', json(iif(t.used_at IS NULL, 'false', 'true')),
		'expires_at', t.expires_at, 'provider', r.provider, 'subject', r.subject, 'sealed', t.sealed),
		`+userWhere("u.user_id = t.user_id")+`
		FROM oauth_tokens t JOIN oauth_registrations r ON r.registration_id = t.registration_id
		WHERE t.token_hash = ?`, hash).Scan(&rawRow, &rawUser)
	if errors.Is(err, errNoRows) {
		return nil, nil, errOAuthTokenNotFound
	}
	row := &oauthTokenRow{}
	var u *user
	if err == nil {
		if err = json.Unmarshal(rawRow, row); err == nil {
			u, err = optionalJSON[user](rawUser)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("engine: oauth token: %w", err)
	}
	if u == nil {
		return nil, nil, errOAuthTokenNotFound
	}
	return u, row, nil
}

// spendOAuthToken consumes the token with one conditional statement, which
// also clears the provider's tokens; the winner of concurrent calls alone
// goes on to open sealed, those tokens as read before.
func (e *Engine) spendOAuthToken(ctx context.Context, hash, sealed string) (*oauth.Tokens, error) {
	var spent int
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE oauth_tokens SET used_at = ?, sealed = ''
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING 1`,
		e.now(), hash, e.now()).Scan(&spent)
	if errors.Is(err, errNoRows) {
		return nil, errOAuthTokenUsed
	}
	if err != nil {
		return nil, fmt.Errorf("engine: oauth token: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("engine: oauth token: %w", err)
	}
	plain, err := e.cfg.SecretBox.Open(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("engine: oauth token: %w", err)
	}
	var t oauth.Tokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("engine: oauth token: %w", err)
	}
	return &t, nil
}

// providerValuesView is Stytch's provider_values.
type providerValuesView struct {
	AccessToken  string   `json:"access_token"`
	ExpiresAt    *string  `json:"expires_at"`
	IDToken      string   `json:"id_token"`
	RefreshToken string   `json:"refresh_token"`
	Scopes       []string `json:"scopes"`
}

func providerValues(t *oauth.Tokens) *providerValuesView {
	v := &providerValuesView{AccessToken: t.AccessToken, IDToken: t.IDToken, RefreshToken: t.RefreshToken, Scopes: t.Scopes}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !t.ExpiresAt.IsZero() {
		s := stamp(t.ExpiresAt.Unix())
		v.ExpiresAt = &s
	}
	return v
}

// providerType is the provider_type Stytch writes for a provider: its
// capitalised name for Google and GitHub, the configured name otherwise.
func providerType(name string) string {
	switch name {
	case oauth.KindGoogle:
		return "Google"
	case oauth.KindGitHub:
		return "Github"
	}
	return name
}

// oauthAttach is the body of POST /v1/oauth/attach.
type oauthAttach struct {
	Provider     string `json:"provider"`
	UserID       string `json:"user_id"`
	SessionToken string `json:"session_token"`
	SessionJWT   string `json:"session_jwt"`
}

func (a *oauthAttach) validate(e *Engine) error {
	n := 0
	for _, s := range []string{a.UserID, a.SessionToken, a.SessionJWT} {
		if s != "" {
			n++
		}
	}
	switch {
	case a.Provider == "":
		return badRequest("provider is required.")
	case e.oauth[a.Provider] == nil:
		return errOAuthProvider
	case n != 1:
		return badRequest("Provide exactly one of user_id, session_token or session_jwt.")
	case a.UserID != "" && !e.validID("user", a.UserID):
		return errInvalidUserID
	}
	return nil
}

// POST /v1/oauth/attach — a token that lets a start (oauth_attach_token)
// add provider to the user, named directly or by a live session.
func (e *Engine) attachOAuth(c *call) error {
	var a oauthAttach
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	userID := a.UserID
	if userID == "" {
		s, _, err := e.liveSession(ctx, a.SessionToken, a.SessionJWT)
		if err != nil {
			return err
		}
		userID = s.UserID
	} else if _, err := e.userByID(ctx, userID); err != nil {
		return err
	}
	token, err := e.newMagicLinkToken()
	if err != nil {
		return err
	}
	now := e.now()
	if _, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO oauth_attach_tokens (token_hash, user_id, provider,
		created_at, expires_at) VALUES (?, ?, ?, ?, ?)`, hashToken(token), userID, a.Provider, now, now+oauthAttachMinutes*60); err != nil {
		return fmt.Errorf("engine: oauth attach: %w", err)
	}
	c.reply(map[string]any{"oauth_attach_token": token})
	return nil
}
