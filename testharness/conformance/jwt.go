package conformance

import (
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwks fetches the target's published keys, without credentials.
func (c *client) jwks() map[string]*rsa.PublicKey {
	c.t.Helper()
	body := c.ok(c.do(http.MethodGet, "/v1/sessions/jwks/"+c.tg.ProjectID, nil, noAuth))
	list, ok := body["keys"].([]any)
	if !ok || len(list) == 0 {
		c.t.Fatalf("jwks: no keys: %v", body)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range list {
		m, _ := k.(obj)
		if m["kty"] != "RSA" || m["use"] != "sig" || m["alg"] != "RS256" {
			c.t.Fatalf("jwks: key %v is not an RS256 signing key", m)
		}
		if ops, _ := m["key_ops"].([]any); len(ops) != 1 || ops[0] != "verify" {
			c.t.Fatalf("jwks: key_ops %v", m["key_ops"])
		}
		kid := str(c.t, m, "kid")
		if !jwkIDPattern(kid) {
			c.t.Fatalf("jwks: kid %q is not jwk-<env>-<uuid>", kid)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(str(c.t, m, "n"))
		e, err2 := base64.RawURLEncoding.DecodeString(str(c.t, m, "e"))
		if err1 != nil || err2 != nil {
			c.t.Fatalf("jwks: key %s: bad n or e", kid)
		}
		out[kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out
}

func jwkIDPattern(kid string) bool {
	return len(kid) == len("jwk-test-")+36 && (kid[:9] == "jwk-test-" || kid[:9] == "jwk-live-")
}

// verifyJWT checks a session JWT as an origin would, against the JWKS the
// target serves, and returns its claims. Time is checked against the
// token's own iat (hosts may run on a moved clock); exp - iat is asserted.
func (c *client) verifyJWT(tok string) jwt.MapClaims {
	c.t.Helper()
	keys := c.jwks()
	claims := jwt.MapClaims{}
	var iat time.Time
	parsed, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		if tk.Header["typ"] != "JWT" {
			c.t.Errorf("jwt typ %v", tk.Header["typ"])
		}
		kid, _ := tk.Header["kid"].(string)
		key, ok := keys[kid]
		if !ok {
			c.t.Fatalf("jwt kid %q is not in the JWKS", kid)
		}
		if v, ok := tk.Claims.(jwt.MapClaims)["iat"].(float64); ok {
			iat = time.Unix(int64(v), 0)
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer("stytch.com/"+c.tg.ProjectID),
		jwt.WithAudience(c.tg.ProjectID),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return iat }),
	)
	if err != nil || !parsed.Valid {
		c.t.Fatalf("session_jwt does not verify against the JWKS: %v", err)
	}
	return claims
}

// checkSessionJWT asserts the JWT describes session s of user.
func checkSessionJWT(t *testing.T, claims jwt.MapClaims, s obj) {
	t.Helper()
	if claims["sub"] != s["user_id"] {
		t.Errorf("jwt sub %v, session user %v", claims["sub"], s["user_id"])
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	nbf, _ := claims["nbf"].(float64)
	expires := parseTime(t, s["expires_at"]).Unix()
	wantExp := int64(iat) + 300
	if expires < wantExp {
		wantExp = expires
	}
	if int64(exp) != wantExp || nbf != iat || iat == 0 {
		t.Errorf("jwt iat %v nbf %v exp %v, session expires %d: want nbf = iat, exp = min(iat+300, expires_at)", iat, nbf, exp, expires)
	}
	sc, ok := claims["https://stytch.com/session"].(map[string]any)
	if !ok {
		t.Fatalf("jwt has no https://stytch.com/session claim: %v", claims)
	}
	for _, k := range []string{"started_at", "last_accessed_at", "expires_at"} {
		if sc[k] != s[k] {
			t.Errorf("jwt session %s %v, session %v", k, sc[k], s[k])
		}
	}
	if sc["id"] != s["session_id"] {
		t.Errorf("jwt session id %v, session %v", sc["id"], s["session_id"])
	}
	factors, _ := sc["authentication_factors"].([]any)
	want, _ := s["authentication_factors"].([]any)
	if len(factors) != len(want) || len(factors) == 0 {
		t.Errorf("jwt factors %v, session factors %v", factors, want)
	}
	for _, f := range factors {
		fm, _ := f.(map[string]any)
		if _, has := fm["created_at"]; has {
			t.Errorf("jwt factor carries created_at: %v", fm)
		}
	}
	if roles, _ := sc["roles"].([]any); len(roles) != 1 || roles[0] != "stytch_user" {
		t.Errorf("jwt roles %v", sc["roles"])
	}
	if !reflect.DeepEqual(sc["attributes"], s["attributes"]) {
		t.Errorf("jwt attributes %v, session attributes %v", sc["attributes"], s["attributes"])
	}
	// The custom claims are the top-level claims beside the registered
	// and Stytch ones, read back exactly as the session object holds them.
	custom := map[string]any{}
	for k, v := range claims {
		switch k {
		case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "https://stytch.com/session":
		default:
			custom[k] = v
		}
	}
	wantCustom, _ := s["custom_claims"].(obj)
	if wantCustom == nil {
		wantCustom = obj{}
	}
	if !reflect.DeepEqual(custom, wantCustom) {
		t.Errorf("jwt custom claims %v, session custom_claims %v", custom, wantCustom)
	}
}
