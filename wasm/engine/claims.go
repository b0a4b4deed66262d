package engine

import (
	"bytes"
	"encoding/json"
	"strings"
)

const maxCustomClaimsBytes = 4096

// claims are a session's custom claims: top-level JWT claims chosen by the app.
type claims map[string]json.RawMessage

var reservedClaims = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// checkClaimNames rejects registered and Stytch-namespaced claim names.
func checkClaimNames(update claims) error {
	for name := range update {
		if reservedClaims[name] {
			return errReservedClaims
		}
		if strings.HasPrefix(name, "https://stytch.com/") {
			return errStytchClaims
		}
	}
	return nil
}

// merge applies update to c: supplied keys overwrite, a key set to null is
// deleted, others persist. The result must serialise within the limit.
func (c claims) merge(update claims) (claims, error) {
	out := make(claims, len(c)+len(update))
	for k, v := range c {
		out[k] = v
	}
	for k, v := range update {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, badRequest("session_custom_claims is not valid JSON.")
	}
	if len(b) > maxCustomClaimsBytes {
		return nil, errClaimsTooLarge
	}
	return out, nil
}
