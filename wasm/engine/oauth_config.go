package engine

import (
	"errors"
	"net/url"
	"strings"
)

// checkOAuthConfig checks what social login needs, when providers are
// configured.
func checkOAuthConfig(cfg Config) error {
	if len(cfg.OAuthProviders) == 0 {
		return nil
	}
	switch {
	case cfg.Fetcher == nil:
		return errors.New("OAuth providers need a Fetcher")
	case cfg.SecretBox == nil:
		return errors.New("OAuth providers need a SecretBox: their tokens are stored sealed")
	case !strings.HasPrefix(cfg.PublicToken, "public-token-"+EnvOf(cfg.ProjectID)+"-"):
		return errors.New("OAuth providers need the project's PublicToken (public-token-" + EnvOf(cfg.ProjectID) + "-…)")
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return errors.New("BaseURL must be an http or https origin, without a path")
		}
	}
	return nil
}
