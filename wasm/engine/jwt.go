package engine

import (
	"bytes"
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
// splices them in); checkClaimName keeps their names apart.
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
	payload, err := marshalJWTJSON(&jwtClaims{
		Aud: [1]string{e.cfg.ProjectID},
		Exp: exp,
		Session: jwtSessionInfo{
			Attributes:            s.Attributes,
			AuthenticationFactors: jwtFactors(s.Factors),
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
		custom, err := marshalJWTJSON(s.CustomClaims)
		if err != nil {
			return "", fmt.Errorf("engine: jwt custom claims: %w", err)
		}
		payload = append(append(payload[:len(payload)-1], ','), custom[1:]...)
	}
	tok, err := e.signJWT(ctx, header, payload)
	if err != nil {
		return "", fmt.Errorf("engine: session %s: %w", s.ID, err)
	}
	return tok, nil
}

// signJWT signs header (base64url, from encodedHeader) and the JSON
// payload with the signer, for session and M2M JWTs alike.
func (e *Engine) signJWT(ctx context.Context, header string, payload []byte) (string, error) {
	input := make([]byte, 0, len(header)+1+b64.EncodedLen(len(payload)))
	input = append(input, header...)
	input = append(input, '.')
	input = b64.AppendEncode(input, payload)
	sig, err := e.cfg.Signer.Sign(ctx, input)
	if err != nil {
		return "", fmt.Errorf("engine: sign jwt: %w", err)
	}
	if n := len(input) + 1 + b64.EncodedLen(len(sig)); n > maxJWTBytes {
		// The request bounds make this unreachable (TestLargestJWT); if
		// it ever happens, mint nothing no reader would accept.
		return "", fmt.Errorf("engine: jwt of %d bytes exceeds %d", n, maxJWTBytes)
	}
	var out strings.Builder
	out.Grow(len(input) + 1 + b64.EncodedLen(len(sig)))
	out.Write(input)
	out.WriteByte('.')
	out.WriteString(b64.EncodeToString(sig))
	return out.String(), nil
}

// marshalJWTJSON is json.Marshal without HTML escaping: a JWT is no HTML
// document, and "<" costs one byte rather than six.
func marshalJWTJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
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

// maxJWTBytes bounds the session JWTs the engine reads and mints. The
// bounds on custom claims and attributes keep every JWT the engine mints
// well under it (TestLargestJWT), and the verifier reads the same limit.
const maxJWTBytes = 16 << 10

// jwtRef is what a session JWT of ours names: its session and user.
type jwtRef struct {
	sessionID string
	userID    string
}

// readJWT checks that tok is a JWT this project signed and returns the
// session and user it names. Its exp is not checked: an expired JWT of a
// live session still authenticates (API.md).
//
// The reader is strict, so that a token has one accepted spelling and
// reads the same to every reader: three base64url segments of the
// unpadded alphabet only (Go's decoder would skip CR and LF), a header of
// exactly alg RS256, typ JWT and kid, members matched by exact name and
// none named twice. A malformed JWT is invalid_session_jwt; one not signed
// by a key of ours, or not for this project, is session_not_found.
func (e *Engine) readJWT(tok string) (jwtRef, error) {
	if len(tok) > maxJWTBytes {
		return jwtRef{}, errInvalidSessionJWT
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return jwtRef{}, errInvalidSessionJWT
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := strictB64.DecodeString(p)
		if err != nil || p == "" || !base64URLOnly(p) {
			return jwtRef{}, errInvalidSessionJWT
		}
		raw[i] = b
	}
	kid, err := readJWTHeader(raw[0])
	if err != nil {
		return jwtRef{}, err
	}
	key := e.publicKey(kid)
	if key == nil {
		return jwtRef{}, errSessionNotFound
	}
	sum := sha256.Sum256([]byte(tok[:len(parts[0])+1+len(parts[1])]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], raw[2]) != nil {
		return jwtRef{}, errSessionNotFound
	}
	// Only now that the signature is ours is the payload read.
	return e.readJWTClaims(raw[1])
}

// base64URLOnly reports whether s holds only the characters of unpadded
// base64url.
func base64URLOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// readJWTHeader accepts exactly the header mintJWT writes and returns its kid.
func readJWTHeader(raw []byte) (string, error) {
	m, err := objectMembers(raw)
	if err != nil || len(m) != 3 {
		return "", errInvalidSessionJWT
	}
	alg, ok1 := jsonString(m["alg"])
	typ, ok2 := jsonString(m["typ"])
	kid, ok3 := jsonString(m["kid"])
	switch {
	case !ok1 || !ok2 || !ok3 || typ != "JWT" || kid == "":
		return "", errInvalidSessionJWT
	case alg != "RS256":
		return "", errSessionNotFound
	}
	return kid, nil
}

// readJWTClaims reads the claims of a JWT whose signature is ours.
func (e *Engine) readJWTClaims(raw []byte) (jwtRef, error) {
	m, err := objectMembers(raw)
	if err != nil {
		return jwtRef{}, errInvalidSessionJWT
	}
	iss, ok1 := jsonString(m["iss"])
	sub, ok2 := jsonString(m["sub"])
	var aud []string
	ok3 := json.Unmarshal(m["aud"], &aud) == nil
	info, err := objectMembers(m[sessionClaim])
	if !ok1 || !ok2 || !ok3 || err != nil {
		return jwtRef{}, errInvalidSessionJWT
	}
	id, ok := jsonString(info["id"])
	if !ok || id == "" || sub == "" {
		return jwtRef{}, errInvalidSessionJWT
	}
	if iss != "stytch.com/"+e.cfg.ProjectID || len(aud) != 1 || aud[0] != e.cfg.ProjectID {
		return jwtRef{}, errSessionNotFound
	}
	return jwtRef{sessionID: id, userID: sub}, nil
}

// jsonString reads raw as a JSON string; false for anything else.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}
