//go:build js && wasm

package main

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"syscall/js"

	"github.com/syumai/workers/cloudflare/d1"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/oauth"
	"github.com/latchauth/latch/wasm/sdk"
)

// Names of the Worker's bindings and settings (wrangler.toml, .dev.vars).
const (
	bindingDB     = "DB"
	varProjectID  = "LATCH_PROJECT_ID"
	secretProject = "LATCH_PROJECT_SECRET"
	secretBoxKey  = "LATCH_SECRET_BOX_KEY" // read by the glue only
)

// handlerFromEnv builds the engine from the Worker environment, or, when a
// setting is missing or broken, a handler that answers every request with a
// generic 500 and logs which setting is at fault. It never fails: a Worker that crashed on each request would
// hide the cause. See RATIONALE.md, "How does the Worker read its config?".
// feed is the engine's check of a waiting feed read (nil when
// misconfigured: the handler answers those too).
func handlerFromEnv(env, binding js.Value, logger *slog.Logger) (h http.Handler, feed feedGate) {
	projectID := stringMember(env, varProjectID)
	bad := func(reason string) (http.Handler, feedGate) {
		return misconfigured{env: engine.EnvOf(projectID), reason: reason, logger: logger}, nil
	}
	if projectID == "" {
		return bad(varProjectID + " is not set")
	}
	secret := stringMember(env, secretProject)
	if secret == "" {
		return bad(secretProject + " is not set")
	}
	signer, err := newWebCryptoSigner(binding.Get("signer"))
	if err != nil {
		return bad(err.Error())
	}
	box, err := secretBoxFromBinding(binding, logger)
	if err != nil {
		return bad(err.Error())
	}
	get := func(name string) string { return stringMember(env, name) }
	mc, err := parseMailConfig(get)
	if err != nil {
		return bad(err.Error())
	}
	mailer, err := mailerFromEnv(mc, env, binding)
	if err != nil {
		return bad(err.Error())
	}
	login, err := parseLoginConfig(get)
	if err != nil {
		return bad(err.Error())
	}
	surface, err := parseSDKConfig(get)
	if err != nil {
		return bad(err.Error())
	}
	social, err := parseOAuthConfig(get)
	if err != nil {
		return bad(err.Error())
	}
	passkeys, err := parseWebAuthnOrigins(get)
	if err != nil {
		return bad(err.Error())
	}
	fetcher, err := fetcherFor(social, box, binding)
	if err != nil {
		return bad(err.Error())
	}
	redirects := mc.RedirectURLs
	if login != nil {
		// The page's mailed links and social logins lead back to it.
		links, err := loginpage.LinkURLs(login.URL)
		if err != nil {
			return bad(varLoginURL + ": " + err.Error())
		}
		redirects = append(append([]string(nil), redirects...), links...)
	}
	if t := env.Get(bindingDB); t.Type() != js.TypeObject {
		return bad(fmt.Sprintf("D1 binding %s is missing", bindingDB))
	}
	connector, err := d1.OpenConnector(bindingDB)
	if err != nil {
		return bad(fmt.Sprintf("D1 binding %s: %v", bindingDB, err))
	}
	e, err := engine.New(engine.Config{
		ProjectID: projectID,
		Secret:    secret,
		DB:        sql.OpenDB(connector),
		Signer:    signer,
		Logger:    logger,
		// A nil Mailer must stay a nil interface: the engine then
		// answers its email endpoints with 503.
		Mailer:        mailer,
		MailFrom:      mc.From,
		ProjectName:   mc.ProjectName,
		RedirectURLs:  redirects,
		MailTemplates: mc.Templates,
		// Likewise a nil SecretBox: the TOTP endpoints answer 503.
		SecretBox: box,
		Revoked:   revokedNotifier(env, binding),
		// Writes no answer waits for, after the answer (waitUntil).
		Later: later,
		// Social login, off without providers; a nil Fetcher stays a
		// nil interface.
		OAuthProviders: social.Providers,
		Fetcher:        fetcher,
		PublicToken:    social.PublicToken,
		BaseURL:        social.BaseURL,
		// Passkeys, off without origins.
		WebAuthnOrigins: passkeys,
	})
	if err != nil {
		return bad(err.Error())
	}
	// The SDK surface in front of the engine, the login page in front of
	// both: the page's own calls and every other request pass through.
	h = e
	if surface != nil {
		surface.API, surface.ProjectID, surface.Secret, surface.Logger = h, projectID, secret, logger
		surface.Limit = rateLimit(env, "sdk:")
		if h, err = sdk.New(*surface); err != nil {
			return bad(varPublicToken + ", " + varSDKOrigins + ": " + err.Error())
		}
	}
	if login != nil {
		login.API, login.ProjectID, login.Secret, login.Logger, login.WebAuthnOrigins = h, projectID, secret, logger, passkeys
		social.offerOn(login)
		login.Limit = rateLimit(env, "login:")
		if h, err = loginpage.New(*login); err != nil {
			return bad(err.Error())
		}
	}
	return h, e.ServeFeedWait
}

// fetcherFor returns the engine's Fetcher for social login: nil (a nil
// interface) when no provider is configured, so that the Worker makes no
// outbound request; the glue's fetch otherwise. Providers need the secret
// box too, which seals the tokens they hand out.
func fetcherFor(c oauthConfig, box engine.SecretBox, binding js.Value) (oauth.Fetcher, error) {
	if len(c.Providers) == 0 {
		return nil, nil
	}
	if box == nil {
		return nil, errors.New(secretOAuthProviders + " lists providers but " + secretBoxKey +
			" is not set: the providers' tokens are stored sealed")
	}
	f, err := newGlueFetcher(binding.Get("fetchOutbound"))
	if err != nil {
		return nil, err
	}
	return f, nil
}

// stringMember returns obj[name] when it is a string, else "".
func stringMember(obj js.Value, name string) string {
	if obj.Type() != js.TypeObject {
		return ""
	}
	v := obj.Get(name)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}
