package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Client speaks to one provider for the engine. It caches the provider's
// discovery document and keys; one Client lives as long as its engine.
type Client struct {
	p     Provider
	fetch Fetcher
	now   func() time.Time

	mu        sync.Mutex
	endpoints *endpoints
	fetchedAt time.Time
	keys      keyCache
}

// endpoints are where a provider is spoken to.
type endpoints struct {
	authorization, token, userinfo, jwks string
	// pkce: the provider takes an S256 code_challenge.
	pkce bool
	// basicAuth: the token endpoint takes the client's secret by HTTP
	// Basic auth (client_secret_basic) rather than in the form.
	basicAuth bool
}

// How long what a provider published is trusted before it is read again.
const discoveryTTL = time.Hour

// NewClient returns a Client for p, a provider ParseProviders returned.
func NewClient(p Provider, fetch Fetcher, now func() time.Time) *Client {
	if now == nil {
		now = time.Now
	}
	return &Client{p: p, fetch: fetch, now: now}
}

// Provider returns the provider c speaks to.
func (c *Client) Provider() Provider { return c.p }

// AuthRequest is what an authorization URL carries.
type AuthRequest struct {
	// RedirectURI is Latch's callback, as registered at the provider.
	RedirectURI string
	// State and Nonce are fresh random values of Latch's; Nonce is sent
	// to OpenID providers only.
	State, Nonce string
	// Verifier is the PKCE code verifier Latch keeps for the exchange; its
	// S256 challenge is sent when the provider takes PKCE.
	Verifier string
	// Scopes are asked for after the provider's configured ones.
	Scopes []string
	// Params are passed through to the provider (the start URL's
	// provider_* parameters, without the prefix). They may not replace
	// what Latch sets.
	Params url.Values
}

// reserved are the authorization parameters Latch sets itself.
var reserved = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "response_mode", "request", "request_uri"}

// AuthURL returns the URL the browser is sent to at the provider.
func (c *Client) AuthURL(ctx context.Context, a AuthRequest) (string, error) {
	ep, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(ep.authorization)
	if err != nil {
		return "", fmt.Errorf("oauth: %s: authorization endpoint: %w", c.p.Name, err)
	}
	q := u.Query()
	for k, vs := range a.Params {
		if slices.Contains(reserved, strings.ToLower(k)) {
			return "", fmt.Errorf("%w: provider_%s is set by Latch", ErrParam, k)
		}
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	scopes := slices.Clone(c.p.Scopes)
	for _, s := range a.Scopes {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	q.Set("client_id", c.p.ClientID)
	q.Set("redirect_uri", a.RedirectURI)
	q.Set("response_type", "code")
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("state", a.State)
	if c.p.Kind != KindGitHub {
		q.Set("nonce", a.Nonce)
	}
	if ep.pkce {
		q.Set("code_challenge", Challenge(a.Verifier))
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// discover returns the provider's endpoints: configured, preset, or read
// from the issuer's discovery document (cached for discoveryTTL).
func (c *Client) discover(ctx context.Context) (*endpoints, error) {
	c.mu.Lock()
	if c.endpoints != nil && c.now().Sub(c.fetchedAt) < discoveryTTL {
		ep := c.endpoints
		c.mu.Unlock()
		return ep, nil
	}
	c.mu.Unlock()
	ep, err := c.readEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.endpoints, c.fetchedAt = ep, c.now()
	c.mu.Unlock()
	return ep, nil
}

func (c *Client) readEndpoints(ctx context.Context) (*endpoints, error) {
	p := c.p
	if p.Kind == KindGitHub {
		return &endpoints{authorization: p.AuthorizationURL, token: p.TokenURL, userinfo: p.UserInfoURL, pkce: true}, nil
	}
	if p.Kind == KindGoogle && p.Issuer == googleIssuer {
		return &endpoints{
			authorization: orDefault(p.AuthorizationURL, "https://accounts.google.com/o/oauth2/v2/auth"),
			token:         orDefault(p.TokenURL, "https://oauth2.googleapis.com/token"),
			userinfo:      orDefault(p.UserInfoURL, "https://openidconnect.googleapis.com/v1/userinfo"),
			jwks:          orDefault(p.JWKSURL, "https://www.googleapis.com/oauth2/v3/certs"),
			pkce:          true, basicAuth: true,
		}, nil
	}
	var doc struct {
		Issuer           string   `json:"issuer"`
		Authorization    string   `json:"authorization_endpoint"`
		Token            string   `json:"token_endpoint"`
		UserInfo         string   `json:"userinfo_endpoint"`
		JWKS             string   `json:"jwks_uri"`
		ChallengeMethods []string `json:"code_challenge_methods_supported"`
		AuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := c.getJSON(ctx, strings.TrimSuffix(p.Issuer, "/")+"/.well-known/openid-configuration", "", &doc); err != nil {
		return nil, fmt.Errorf("oauth: %s: discovery: %w", p.Name, err)
	}
	if doc.Issuer != p.Issuer {
		return nil, fmt.Errorf("oauth: %s: discovery names issuer %q, not the configured %q", p.Name, clip(doc.Issuer), p.Issuer)
	}
	ep := &endpoints{
		authorization: orDefault(p.AuthorizationURL, doc.Authorization),
		token:         orDefault(p.TokenURL, doc.Token),
		userinfo:      orDefault(p.UserInfoURL, doc.UserInfo),
		jwks:          orDefault(p.JWKSURL, doc.JWKS),
		pkce:          slices.Contains(doc.ChallengeMethods, "S256"),
		basicAuth:     len(doc.AuthMethods) == 0 || slices.Contains(doc.AuthMethods, "client_secret_basic") || !slices.Contains(doc.AuthMethods, "client_secret_post"),
	}
	for _, e := range []struct{ name, url string }{
		{name: "authorization_endpoint", url: ep.authorization},
		{name: "token_endpoint", url: ep.token},
		{name: "jwks_uri", url: ep.jwks},
	} {
		if e.url == "" {
			return nil, fmt.Errorf("oauth: %s: discovery has no %s", p.Name, e.name)
		}
	}
	for _, u := range []string{ep.authorization, ep.token, ep.userinfo, ep.jwks} {
		if u != "" && !c.allows(u) {
			return nil, fmt.Errorf("oauth: %s: discovery points to %q, off the issuer's host; configure the endpoint explicitly to allow it", p.Name, clip(u))
		}
	}
	return ep, nil
}

// allows reports whether Latch may send a request to raw for this
// provider: an http(s) URL checkEndpoint accepts, on the host of the
// issuer or of an endpoint the configuration names. A discovery document
// cannot widen the list: Latch is never made to call an address the
// operator did not name. See RATIONALE.md, "Which addresses does social
// login call?".
func (c *Client) allows(raw string) bool {
	if checkEndpoint(raw) != nil {
		return false
	}
	u, _ := url.Parse(raw)
	p := c.p
	for _, named := range []string{p.Issuer, p.AuthorizationURL, p.TokenURL, p.UserInfoURL, p.JWKSURL, p.EmailsURL} {
		if named == "" {
			continue
		}
		n, err := url.Parse(named)
		if err == nil && strings.EqualFold(n.Scheme, u.Scheme) && strings.EqualFold(n.Host, u.Host) {
			return true
		}
	}
	if p.Kind == KindGoogle && p.Issuer == googleIssuer && u.Scheme == "https" {
		switch strings.ToLower(u.Host) {
		case "oauth2.googleapis.com", "openidconnect.googleapis.com", "www.googleapis.com":
			return true
		}
	}
	return false
}

// do sends one request the provider's allow-list permits.
func (c *Client) do(ctx context.Context, req *Request) (*Response, error) {
	if !c.allows(req.URL) {
		return nil, fmt.Errorf("%q is not an address of this provider", clip(req.URL))
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("User-Agent", "Latch")
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	resp, err := c.fetch.Fetch(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(resp.Body) > MaxResponseBody {
		return nil, fmt.Errorf("the answer is larger than %d bytes", MaxResponseBody)
	}
	return resp, nil
}

// getJSON GETs raw and decodes a 200 answer into dst; bearer, when set,
// is sent as the access token.
func (c *Client) getJSON(ctx context.Context, raw, bearer string, dst any) error {
	h := http.Header{"Accept": {"application/json"}}
	if bearer != "" {
		h.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.do(ctx, &Request{Method: http.MethodGet, URL: raw, Header: h})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", clip(raw), resp.Status)
	}
	if err := json.Unmarshal(resp.Body, dst); err != nil {
		return fmt.Errorf("GET %s: the answer is not the JSON expected", clip(raw))
	}
	return nil
}
