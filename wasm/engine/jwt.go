package engine

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// jwtLifetime is how long a session JWT is valid, in seconds.
const jwtLifetime = 300

const sessionClaim = "https://stytch.com/session"

// b64 encodes JWT segments; strictB64 decodes them and refuses non-zero
// padding bits, so that one token has exactly one spelling.
var (
	b64       = base64.RawURLEncoding
	strictB64 = base64.RawURLEncoding.Strict()
)

// jwtHeader is a signing key's JWT header, base64url-encoded, kept for as
// long as the signer keeps signing with that key.
type jwtHeader struct {
	kid     string
	encoded string
}

// encodedHeader returns the base64url JWT header for kid, from the cache
// when kid is still the key the last JWT was signed with.
func (e *Engine) encodedHeader(kid string) (string, error) {
	if h := e.header.Load(); h != nil && h.kid == kid {
		return h.encoded, nil
	}
	raw, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{Alg: "RS256", Kid: kid, Typ: "JWT"})
	if err != nil {
		return "", fmt.Errorf("engine: jwt header: %w", err)
	}
	h := &jwtHeader{kid: kid, encoded: b64.EncodeToString(raw)}
	e.header.Store(h)
	return h.encoded, nil
}

// jwtClaims are the registered and Stytch claims of a session JWT. The
// session's custom claims are top-level claims beside them (mintJWT
// splices them in); checkClaimNames keeps their names apart.
type jwtClaims struct {
	Aud     [1]string      `json:"aud"`
	Exp     int64          `json:"exp"`
	Session jwtSessionInfo `json:"https://stytch.com/session"`
	Iat     int64          `json:"iat"`
	Iss     string         `json:"iss"`
	Nbf     int64          `json:"nbf"`
	Sub     string         `json:"sub"`
}

// jwtSessionInfo is the https://stytch.com/session claim.
type jwtSessionInfo struct {
	Attributes            attributes `json:"attributes"`
	AuthenticationFactors []factor   `json:"authentication_factors"`
	ExpiresAt             string     `json:"expires_at"`
	ID                    string     `json:"id"`
	LastAccessedAt        string     `json:"last_accessed_at"`
	Roles                 roles      `json:"roles"`
	StartedAt             string     `json:"started_at"`
}

// mintJWT returns an RS256 session JWT for s, valid for five minutes and
// never past the session's own expiry.
func (e *Engine) mintJWT(ctx context.Context, s *session, now int64) (string, error) {
	header, err := e.encodedHeader(e.cfg.Signer.KeyID())
	if err != nil {
		return "", err
	}
	exp := now + jwtLifetime
	if exp > s.ExpiresAt {
		exp = s.ExpiresAt
	}
	factors := make([]factor, len(s.Factors))
	for i, f := range s.Factors {
		f.CreatedAt, f.UpdatedAt = "", ""
		factors[i] = f
	}
	payload, err := json.Marshal(&jwtClaims{
		Aud: [1]string{e.cfg.ProjectID},
		Exp: exp,
		Session: jwtSessionInfo{
			Attributes:            s.Attributes,
			AuthenticationFactors: factors,
			ExpiresAt:             stamp(s.ExpiresAt),
			ID:                    s.ID,
			LastAccessedAt:        stamp(s.LastAccessedAt),
			Roles:                 roles{defaultRole},
			StartedAt:             stamp(s.StartedAt),
		},
		Iat: now,
		Iss: "stytch.com/" + e.cfg.ProjectID,
		Nbf: now,
		Sub: s.UserID,
	})
	if err != nil {
		return "", fmt.Errorf("engine: jwt claims: %w", err)
	}
	if len(s.CustomClaims) > 0 {
		// {"k":v,…} of the custom claims (keys JSON-encoded, values
		// compacted) joins the fixed claims' object: {fixed…,"k":v,…}.
		custom, err := json.Marshal(s.CustomClaims)
		if err != nil {
			return "", fmt.Errorf("engine: jwt custom claims: %w", err)
		}
		payload = append(append(payload[:len(payload)-1], ','), custom[1:]...)
	}
	input := make([]byte, 0, len(header)+1+b64.EncodedLen(len(payload)))
	input = append(input, header...)
	input = append(input, '.')
	input = b64.AppendEncode(input, payload)
	sig, err := e.cfg.Signer.Sign(ctx, input)
	if err != nil {
		return "", fmt.Errorf("engine: sign jwt: %w", err)
	}
	var out strings.Builder
	out.Grow(len(input) + 1 + b64.EncodedLen(len(sig)))
	out.Write(input)
	out.WriteByte('.')
	out.WriteString(b64.EncodeToString(sig))
	return out.String(), nil
}

// decodePublicKey turns a JWK's members into an RSA public key.
func decodePublicKey(k PublicKey) (*rsa.PublicKey, error) {
	n, err := b64.DecodeString(k.N)
	if err != nil || len(n) < 256 {
		return nil, fmt.Errorf("engine: key %q: bad modulus", k.KID)
	}
	eb, err := b64.DecodeString(k.E)
	if err != nil || len(eb) == 0 || len(eb) > 3 {
		return nil, fmt.Errorf("engine: key %q: bad exponent", k.KID)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(eb).Int64())}, nil
}

// publicKey returns the published key named kid, or nil. The signer's key
// list is read on every call so that a host may rotate keys while serving.
func (e *Engine) publicKey(kid string) *rsa.PublicKey {
	for _, k := range e.cfg.Signer.PublicKeys() {
		if k.KID == kid {
			key, err := decodePublicKey(k)
			if err != nil {
				return nil
			}
			return key
		}
	}
	return nil
}

// sessionIDFromJWT checks that tok is a JWT this project signed and returns
// the session id it names. Its exp is not checked: an expired JWT of a live
// session still authenticates (API.md). A malformed JWT is
// invalid_session_jwt; one not signed by a key of ours is session_not_found.
func (e *Engine) sessionIDFromJWT(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(tok) > 16<<10 {
		return "", errInvalidSessionJWT
	}
	rawHeader, err1 := strictB64.DecodeString(parts[0])
	rawClaims, err2 := strictB64.DecodeString(parts[1])
	sig, err3 := strictB64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", errInvalidSessionJWT
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(rawHeader, &header) != nil {
		return "", errInvalidSessionJWT
	}
	key := e.publicKey(header.Kid)
	if header.Alg != "RS256" || key == nil {
		return "", errSessionNotFound
	}
	sum := sha256.Sum256([]byte(tok[:len(parts[0])+1+len(parts[1])]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return "", errSessionNotFound
	}
	// Only now that the signature is ours is the payload read.
	var body struct {
		Iss     string          `json:"iss"`
		Aud     json.RawMessage `json:"aud"`
		Session struct {
			ID string `json:"id"`
		} `json:"https://stytch.com/session"`
	}
	if json.Unmarshal(rawClaims, &body) != nil || body.Session.ID == "" {
		return "", errInvalidSessionJWT
	}
	if body.Iss != "stytch.com/"+e.cfg.ProjectID || !audienceHas(body.Aud, e.cfg.ProjectID) {
		return "", errSessionNotFound
	}
	return body.Session.ID, nil
}

func audienceHas(raw json.RawMessage, want string) bool {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for _, a := range list {
			if a == want {
				return true
			}
		}
		return false
	}
	var one string
	return json.Unmarshal(raw, &one) == nil && one == want
}
