package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Challenge returns the S256 PKCE code challenge of verifier (RFC 7636).
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Identity is who the provider says signed in.
type Identity struct {
	// Subject is the provider's stable id of the user: the ID token's
	// sub, GitHub's numeric user id.
	Subject string
	// Email is the user's address as the provider gave it, and
	// EmailVerified whether the provider says it verified it.
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
	PictureURL    string
	Locale        string
	Tokens        Tokens
}

// Tokens are the provider's, as Stytch's provider_values carry them.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	IDToken      string    `json:"id_token"`
	RefreshToken string    `json:"refresh_token"`
	Scopes       []string  `json:"scopes"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// Exchange trades the code the provider sent to the callback for the
// user's identity: the ID token checked against the provider's keys and
// nonce (OpenID Connect), or the user API (GitHub).
func (c *Client) Exchange(ctx context.Context, code, redirectURI, verifier, nonce string) (*Identity, error) {
	ep, err := c.discover(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProvider, err)
	}
	tok, err := c.redeem(ctx, ep, code, redirectURI, verifier)
	if err != nil {
		return nil, err
	}
	if c.p.Kind == KindGitHub {
		return c.githubIdentity(ctx, ep, tok)
	}
	if tok.IDToken == "" {
		return nil, fmt.Errorf("%w: %s answered no id_token", ErrIDToken, c.p.Name)
	}
	id, err := c.checkIDToken(ctx, ep, tok.IDToken, nonce)
	if err != nil {
		return nil, err
	}
	id.Tokens = *tok
	if id.Email == "" && ep.userinfo != "" {
		c.fillFromUserInfo(ctx, ep, id)
	}
	return id, nil
}

// tokenAnswer is a token endpoint's answer (RFC 6749 5.1 and 5.2).
type tokenAnswer struct {
	AccessToken  string          `json:"access_token"`
	IDToken      string          `json:"id_token"`
	RefreshToken string          `json:"refresh_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.Number     `json:"expires_in"`
	Scope        string          `json:"scope"`
	Error        string          `json:"error"`
	Description  json.RawMessage `json:"error_description"`
}

// redeem posts the code to the token endpoint.
func (c *Client) redeem(ctx context.Context, ep *endpoints, code, redirectURI, verifier string) (*Tokens, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if ep.pkce {
		form.Set("code_verifier", verifier)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	if ep.basicAuth {
		// RFC 6749 2.3.1: both halves form-encoded first.
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(c.p.ClientID)+":"+url.QueryEscape(c.p.ClientSecret))))
	} else {
		form.Set("client_id", c.p.ClientID)
		form.Set("client_secret", c.p.ClientSecret)
	}
	resp, err := c.do(ctx, &Request{Method: http.MethodPost, URL: ep.token, Header: h, Body: []byte(form.Encode())})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: token endpoint: %w", ErrProvider, c.p.Name, err)
	}
	var a tokenAnswer
	jsonErr := json.Unmarshal(resp.Body, &a)
	switch {
	case a.Error != "":
		// GitHub answers its errors with 200.
		return nil, fmt.Errorf("%w: %s: token endpoint: %s", ErrRefused, c.p.Name, clip(a.Error))
	case resp.Status == http.StatusBadRequest || resp.Status == http.StatusUnauthorized:
		return nil, fmt.Errorf("%w: %s: token endpoint: status %d", ErrRefused, c.p.Name, resp.Status)
	case resp.Status != http.StatusOK || jsonErr != nil:
		return nil, fmt.Errorf("%w: %s: token endpoint: status %d", ErrProvider, c.p.Name, resp.Status)
	case a.AccessToken == "":
		return nil, fmt.Errorf("%w: %s: token endpoint answered no access_token", ErrProvider, c.p.Name)
	}
	t := &Tokens{AccessToken: a.AccessToken, IDToken: a.IDToken, RefreshToken: a.RefreshToken, Scopes: scopeList(a.Scope)}
	if n, err := a.ExpiresIn.Int64(); err == nil && n > 0 && n < 10*365*24*3600 {
		t.ExpiresAt = c.now().Add(time.Duration(n) * time.Second).UTC().Truncate(time.Second)
	}
	return t, nil
}

// scopeList splits a granted scope: space-separated, or comma-separated
// as GitHub writes it.
func scopeList(s string) []string {
	list := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if list == nil {
		list = []string{}
	}
	return list
}

// fillFromUserInfo adds the address the userinfo endpoint gives, when the
// ID token carried none. Its sub must be the ID token's (OpenID Connect
// Core 5.3.2); anything else, or an endpoint that fails, leaves id as it
// was.
func (c *Client) fillFromUserInfo(ctx context.Context, ep *endpoints, id *Identity) {
	var info idClaims
	if err := c.getJSON(ctx, ep.userinfo, id.Tokens.AccessToken, &info); err != nil || info.Subject != id.Subject {
		return
	}
	id.Email, id.EmailVerified = info.Email, bool(info.EmailVerified)
	if id.GivenName == "" && id.FamilyName == "" {
		id.GivenName, id.FamilyName = info.GivenName, info.FamilyName
	}
	if id.PictureURL == "" {
		id.PictureURL = info.Picture
	}
}
