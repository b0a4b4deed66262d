package oauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// The kinds of provider a configuration may name.
const (
	// KindOIDC is any OpenID Connect provider, found by its issuer's
	// discovery document; the ID token names the user.
	KindOIDC = "oidc"
	// KindGoogle is OpenID Connect with Google's issuer preset.
	KindGoogle = "google"
	// KindGitHub is plain OAuth 2.0 with GitHub's endpoints; GitHub's
	// user API names the user.
	KindGitHub = "github"
)

// Provider is one configured identity provider, as ParseProviders
// checked it.
type Provider struct {
	// Kind is KindOIDC, KindGoogle or KindGitHub.
	Kind string `json:"provider"`
	// Name is the {provider} path segment of the start URL and the
	// provider_type of the identities it yields: "google", "github", or
	// the name given to an oidc provider.
	Name         string `json:"name"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// Issuer is an OpenID provider's issuer; discovery is read from
	// Issuer + "/.well-known/openid-configuration".
	Issuer string `json:"issuer"`
	// Scopes are asked for on every start, before the request's
	// custom_scopes; the kind's defaults when empty.
	Scopes []string `json:"scopes"`
	// The endpoints, when set, are used instead of discovery's (oidc,
	// google) or GitHub's (github).
	AuthorizationURL string `json:"authorization_url"`
	TokenURL         string `json:"token_url"`
	UserInfoURL      string `json:"userinfo_url"`
	JWKSURL          string `json:"jwks_url"`
	// EmailsURL is GitHub's list of the user's addresses.
	EmailsURL string `json:"emails_url"`
}

// String names p without its secret, for logs.
func (p Provider) String() string { return fmt.Sprintf("%s provider %q", p.Kind, p.Name) }

// GoString keeps the secret out of %#v too.
func (p Provider) GoString() string { return p.String() }

// Presets.
const (
	googleIssuer    = "https://accounts.google.com"
	githubAuthorize = "https://github.com/login/oauth/authorize"
	githubToken     = "https://github.com/login/oauth/access_token"
	githubUserURL   = "https://api.github.com/user"
	githubEmails    = "https://api.github.com/user/emails"
)

// validName reports whether s is a provider name: 1 to 32 of a-z, 0-9,
// '-' and '_', the first a letter or digit. Written out rather than as a
// regexp, which compiles a bounded repetition into as many copies of its
// class, at init, on every start of the Worker's isolate.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validScope reports whether s is RFC 6749's scope-token, at most 128
// bytes: printable ASCII but space, '"' and '\'.
func validScope(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Bounds on a configuration document.
const (
	maxProviders  = 32
	maxConfigSize = 64 << 10
	maxScopes     = 32
)

// ParseProviders reads the providers configuration: a JSON list of
// providers (see Provider; README.md, "Social login"). Every error wraps
// ErrConfig and never quotes a client secret. An empty document, or an
// empty list, configures no provider.
func ParseProviders(doc []byte) ([]Provider, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, nil
	}
	if len(doc) > maxConfigSize {
		return nil, fmt.Errorf("%w: the providers document is larger than %d bytes", ErrConfig, maxConfigSize)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var ps []Provider
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("%w: the providers document is not a JSON list of providers: %s", ErrConfig, jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: the providers document has more than one JSON value", ErrConfig)
	}
	if len(ps) > maxProviders {
		return nil, fmt.Errorf("%w: more than %d providers", ErrConfig, maxProviders)
	}
	seen := map[string]bool{}
	for i := range ps {
		if err := ps[i].check(); err != nil {
			return nil, fmt.Errorf("%w: provider %d: %w", ErrConfig, i+1, err)
		}
		if seen[ps[i].Name] {
			return nil, fmt.Errorf("%w: two providers are named %q", ErrConfig, ps[i].Name)
		}
		seen[ps[i].Name] = true
	}
	return ps, nil
}

// jsonProblem describes a decoding error without quoting the document,
// which holds secrets.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case asErr(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case asErr(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	default:
		return "invalid JSON"
	}
}

// check fills p's presets and checks it.
func (p *Provider) check() error {
	switch p.Kind {
	case KindGoogle:
		if p.Name == "" {
			p.Name = KindGoogle
		}
		if p.Issuer == "" {
			p.Issuer = googleIssuer
		}
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "email", "profile"}
		}
	case KindGitHub:
		if p.Name == "" {
			p.Name = KindGitHub
		}
		if p.Issuer != "" {
			return fmt.Errorf("a github provider has no issuer")
		}
		p.AuthorizationURL = orDefault(p.AuthorizationURL, githubAuthorize)
		p.TokenURL = orDefault(p.TokenURL, githubToken)
		p.UserInfoURL = orDefault(p.UserInfoURL, githubUserURL)
		p.EmailsURL = orDefault(p.EmailsURL, githubEmails)
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"read:user", "user:email"}
		}
	case KindOIDC:
		if p.Issuer == "" {
			return fmt.Errorf("an oidc provider needs an issuer")
		}
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "email", "profile"}
		}
	default:
		return fmt.Errorf("provider %q is not one of google, github, oidc", clip(p.Kind))
	}
	if !validName(p.Name) {
		return fmt.Errorf("name %q is not 1 to 32 of a-z, 0-9, '-' and '_'", clip(p.Name))
	}
	if p.ClientID == "" || len(p.ClientID) > 512 {
		return fmt.Errorf("%s needs a client_id of at most 512 bytes", p.Name)
	}
	if p.ClientSecret == "" || len(p.ClientSecret) > 1024 {
		return fmt.Errorf("%s needs a client_secret of at most 1024 bytes", p.Name)
	}
	if p.Kind != KindGitHub && !slices.Contains(p.Scopes, "openid") {
		return fmt.Errorf("%s: an OpenID Connect provider's scopes must include openid", p.Name)
	}
	if err := checkScopes(p.Scopes); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	if p.Issuer != "" {
		if err := checkEndpoint(p.Issuer); err != nil {
			return fmt.Errorf("%s: issuer: %w", p.Name, err)
		}
	}
	for _, u := range []struct{ name, url string }{
		{name: "authorization_url", url: p.AuthorizationURL},
		{name: "token_url", url: p.TokenURL},
		{name: "userinfo_url", url: p.UserInfoURL},
		{name: "jwks_url", url: p.JWKSURL},
		{name: "emails_url", url: p.EmailsURL},
	} {
		if u.url == "" {
			continue
		}
		if err := checkEndpoint(u.url); err != nil {
			return fmt.Errorf("%s: %s: %w", p.Name, u.name, err)
		}
	}
	if p.Kind != KindGitHub && p.EmailsURL != "" {
		return fmt.Errorf("%s: emails_url is for github providers", p.Name)
	}
	return nil
}

func checkScopes(scopes []string) error {
	if len(scopes) > maxScopes {
		return fmt.Errorf("more than %d scopes", maxScopes)
	}
	for _, s := range scopes {
		if !validScope(s) {
			return fmt.Errorf("scope %q is not a valid scope", clip(s))
		}
	}
	return nil
}

// checkEndpoint accepts an absolute https URL, or an http URL whose host
// is a loopback address or localhost (a provider on the developer's own
// machine), without user info or fragment.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		return fmt.Errorf("%q is not a URL", clip(raw))
	case u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute URL with a host and no user or fragment", clip(raw))
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q: http is accepted only on loopback", clip(raw))
	default:
		return fmt.Errorf("%q is not http or https", clip(raw))
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// clip shortens what a configuration error quotes.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
