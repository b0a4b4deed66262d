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

var b64 = base64.RawURLEncoding

// mintJWT returns an RS256 session JWT for s, valid for five minutes and
// never past the session's own expiry.
func (e *Engine) mintJWT(ctx context.Context, s *session, now int64) (string, error) {
	kid := e.cfg.Signer.KeyID()
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", fmt.Errorf("engine: jwt header: %w", err)
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
	body := make(map[string]any, len(s.CustomClaims)+7)
	for k, v := range s.CustomClaims {
		body[k] = v
	}
	body["iss"] = "stytch.com/" + e.cfg.ProjectID
	body["aud"] = []string{e.cfg.ProjectID}
	body["sub"] = s.UserID
	body["iat"] = now
	body["nbf"] = now
	body["exp"] = exp
	body[sessionClaim] = map[string]any{
		"id":                     s.ID,
		"started_at":             stamp(s.StartedAt),
		"last_accessed_at":       stamp(s.LastAccessedAt),
		"expires_at":             stamp(s.ExpiresAt),
		"attributes":             s.Attributes,
		"authentication_factors": factors,
		"roles":                  []string{"stytch_user"},
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("engine: jwt claims: %w", err)
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := e.cfg.Signer.Sign(ctx, []byte(input))
	if err != nil {
		return "", fmt.Errorf("engine: sign jwt: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), nil
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
	rawHeader, err1 := b64.DecodeString(parts[0])
	rawClaims, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
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
