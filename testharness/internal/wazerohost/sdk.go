package wazerohost

import (
	"log/slog"
	"slices"

	"github.com/latchauth/latch/wasm/sdk"
)

// sdkSettings returns the SDK surface's settings from cfg, or nil when the
// surface is off: on with a PublicToken, or with SDKOrigins, a token then
// generated for the project. API, the project credentials and the clock
// are the caller's to fill in; sdk.New checks the rest.
func sdkSettings(cfg *Config) *sdk.Config {
	if cfg.PublicToken == "" && len(cfg.SDKOrigins) == 0 {
		return nil
	}
	c := &sdk.Config{
		PublicToken: cfg.PublicToken,
		Origins:     slices.Clone(cfg.SDKOrigins),
		ProjectName: cfg.ProjectName,
		// One line per refused call, so that a page's refused origin or
		// token shows where the guest's own lines do.
		Logger: slog.New(slog.NewTextHandler(&clipWriter{w: cfg.Stderr, max: maxLogLine}, nil)),
	}
	if c.PublicToken == "" {
		c.PublicToken = sdk.NewPublicToken(cfg.ProjectID)
	}
	// The login page's notion of the client, when it was given one (a
	// proxy's header); the connection's address otherwise.
	if cfg.LoginPage != nil {
		c.ClientIP = cfg.LoginPage.ClientIP
	}
	return c
}
