package engine

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Passkeys (WebAuthn): the relying party. A ceremony names its relying
// party ID (Stytch's domain); the engine accepts it only when it is the
// host of an allowed origin or a parent domain of one, and the browser's
// origin must then be one of those allowed origins under it. See
// RATIONALE.md, "Passkeys".

const (
	// webauthnCeremonyTTL is how long a begun ceremony can be finished.
	webauthnCeremonyTTL = 5 * 60
	maxDomainLen        = 253
)

var (
	errWebAuthnUnavailable = newError(http.StatusServiceUnavailable, "webauthn_unavailable", "This Latch has no WebAuthn origins configured.")
	errWebAuthnDomain      = newError(http.StatusBadRequest, "invalid_domain", "domain is not the relying party ID of any origin this project allows for WebAuthn.")
)

// checkWebAuthnOrigins checks Config.WebAuthnOrigins: each an https
// origin, or http on a loopback host (which browsers treat as secure).
func checkWebAuthnOrigins(origins []string) error {
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("WebAuthnOrigins: " + quoteClip(o) + " is not an origin (scheme://host[:port])")
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		default:
			return errors.New("WebAuthnOrigins: " + quoteClip(o) + " must be https (http only on localhost)")
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func quoteClip(s string) string { return `"` + clip(s) + `"` }

// relyingParty returns the go-webauthn relying party for a ceremony on
// domain: its ID is domain, its origins the allowed ones under it.
func (e *Engine) relyingParty(domain string) (*webauthn.WebAuthn, error) {
	if len(e.cfg.WebAuthnOrigins) == 0 {
		return nil, errWebAuthnUnavailable
	}
	domain = strings.ToLower(domain)
	if domain == "" || len(domain) > maxDomainLen {
		return nil, errWebAuthnDomain
	}
	var origins []string
	for _, o := range e.cfg.WebAuthnOrigins {
		u, _ := url.Parse(o) // checked in New
		h := strings.ToLower(u.Hostname())
		if h == domain || strings.HasSuffix(h, "."+domain) {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	if len(origins) == 0 || protocol.ValidateRPID(domain) != nil {
		return nil, errWebAuthnDomain
	}
	ttl := time.Duration(webauthnCeremonyTTL) * time.Second
	rp, err := webauthn.New(&webauthn.Config{
		RPID:                  domain,
		RPDisplayName:         e.cfg.ProjectName,
		RPOrigins:             origins,
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ttl, TimeoutUVD: ttl},
			Registration: webauthn.TimeoutConfig{Timeout: ttl, TimeoutUVD: ttl},
		},
	})
	if err != nil {
		return nil, errWebAuthnDomain
	}
	return rp, nil
}
