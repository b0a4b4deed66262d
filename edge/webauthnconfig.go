package main

import (
	"fmt"
	"strings"
)

// varWebAuthnOrigins names the origins passkey and security key
// ceremonies may come from (engine.Config.WebAuthnOrigins); WebAuthn is
// off when it is unset. See edge/README.md, "Settings".
const varWebAuthnOrigins = "LATCH_WEBAUTHN_ORIGINS"

// parseWebAuthnOrigins reads LATCH_WEBAUTHN_ORIGINS through get: a
// comma-separated list of scheme://host[:port]. The engine checks each is
// https, or http on a loopback host; here the list is split and each
// entry must at least be an origin, so that the error names the setting.
func parseWebAuthnOrigins(get func(string) string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(get(varWebAuthnOrigins), ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		o, err := checkBaseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an https origin (http only on loopback)", varWebAuthnOrigins, clipValue(raw))
		}
		out = append(out, o)
	}
	return out, nil
}
