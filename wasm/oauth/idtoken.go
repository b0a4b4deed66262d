package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// idClaims are the ID token claims (and userinfo members) Latch reads.
type idClaims struct {
	jwt.RegisteredClaims
	Nonce         string   `json:"nonce"`
	AuthorizedBy  string   `json:"azp"`
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
	Picture       string   `json:"picture"`
	Locale        string   `json:"locale"`
}

// flexBool reads true or "true": some providers write email_verified as
// a string.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	default:
		*b = false
	}
	return nil
}

// Bounds of ID token checks.
const (
	// leeway is the clock skew allowed between Latch and a provider.
	leeway = time.Minute
	// maxIDTokenAge refuses an ID token issued long ago, even unexpired.
	maxIDTokenAge = 10 * time.Minute
	// keysRefetchGap spaces out reads of the keys for an unknown kid, so
	// that tokens naming made-up kids cannot make Latch hammer the
	// provider.
	keysRefetchGap = time.Minute
	maxKeys        = 64
)

// idTokenAlgs are the signature algorithms Latch accepts in ID tokens.
var idTokenAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}

// checkIDToken verifies raw (OpenID Connect Core 3.1.3.7): signed by one
// of the provider's keys with an accepted algorithm; issued by the
// provider, for this client, with this login's nonce; not expired, not
// issued in the future or long ago.
func (c *Client) checkIDToken(ctx context.Context, ep *endpoints, raw, nonce string) (*Identity, error) {
	var cl idClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods(idTokenAlgs),
		jwt.WithIssuer(c.p.Issuer),
		jwt.WithAudience(c.p.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(c.now),
	)
	_, err := parser.ParseWithClaims(raw, &cl, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return c.key(ctx, ep, kid, t.Method.Alg())
	})
	if err != nil {
		if errors.Is(err, ErrProvider) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrIDToken, c.p.Name, idTokenProblem(err))
	}
	switch {
	case cl.Subject == "" || len(cl.Subject) > 255:
		return nil, fmt.Errorf("%w: %s: sub is missing or longer than 255 bytes", ErrIDToken, c.p.Name)
	case subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(nonce)) != 1 || nonce == "":
		return nil, fmt.Errorf("%w: %s: the nonce is not this login's", ErrIDToken, c.p.Name)
	case len(cl.Audience) > 1 && cl.AuthorizedBy != c.p.ClientID:
		return nil, fmt.Errorf("%w: %s: several audiences and azp is not this client", ErrIDToken, c.p.Name)
	case cl.AuthorizedBy != "" && cl.AuthorizedBy != c.p.ClientID:
		return nil, fmt.Errorf("%w: %s: azp is another client", ErrIDToken, c.p.Name)
	case cl.IssuedAt == nil || c.now().Sub(cl.IssuedAt.Time) > maxIDTokenAge+leeway:
		return nil, fmt.Errorf("%w: %s: issued too long ago", ErrIDToken, c.p.Name)
	}
	return &Identity{
		Subject: cl.Subject, Email: cl.Email, EmailVerified: bool(cl.EmailVerified) && cl.Email != "",
		GivenName: cl.GivenName, FamilyName: cl.FamilyName, PictureURL: cl.Picture, Locale: cl.Locale,
	}, nil
}

// idTokenProblem names what failed, without the token.
func idTokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "issued to another client (aud)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "issued by another issuer (iss)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return "issued in the future"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signature not made by the provider's keys with an accepted algorithm"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	default:
		return "invalid"
	}
}

// keyCache holds a provider's published keys.
type keyCache struct {
	keys      map[string]crypto.PublicKey
	fetchedAt time.Time
}

// key returns the provider's key kid, for alg. An unknown kid reads the
// keys again, at most once per keysRefetchGap; keys are read again after
// discoveryTTL in any case. A token without a kid is the provider's only
// key's (OpenID Connect Core 10.1: a kid is required only when the set
// has several).
func (c *Client) key(ctx context.Context, ep *endpoints, kid, alg string) (crypto.PublicKey, error) {
	c.mu.Lock()
	k, ok := keyOf(c.keys.keys, kid)
	fresh := c.now().Sub(c.keys.fetchedAt) < discoveryTTL
	mayRefetch := c.now().Sub(c.keys.fetchedAt) >= keysRefetchGap
	c.mu.Unlock()
	if !ok || !fresh {
		if !fresh || mayRefetch {
			keys, err := c.readKeys(ctx, ep)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: keys: %w", ErrProvider, c.p.Name, err)
			}
			c.mu.Lock()
			c.keys = keyCache{keys: keys, fetchedAt: c.now()}
			c.mu.Unlock()
			k, ok = keyOf(keys, kid)
		}
	}
	if !ok {
		return nil, fmt.Errorf("no key %q", clip(kid))
	}
	switch k.(type) {
	case *rsa.PublicKey:
		if alg[0] != 'R' && alg[0] != 'P' {
			return nil, errors.New("an RSA key for " + alg)
		}
	case *ecdsa.PublicKey:
		if alg[0] != 'E' {
			return nil, errors.New("an EC key for " + alg)
		}
	}
	return k, nil
}

// keyOf finds kid in keys: its key, or for "" the only key of the set.
func keyOf(keys map[string]crypto.PublicKey, kid string) (crypto.PublicKey, bool) {
	if k, ok := keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(keys) == 1 {
		for _, k := range keys {
			return k, true
		}
	}
	return nil, false
}

// jwk is one key of a JWK set (RFC 7517), RSA or EC members.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// readKeys reads the provider's JWK set. Keys Latch cannot use (another
// type, an encryption key, a malformed one) are skipped.
func (c *Client) readKeys(ctx context.Context, ep *endpoints) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := c.getJSON(ctx, ep.jwks, "", &set); err != nil {
		return nil, err
	}
	keys := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		if len(keys) == maxKeys {
			break
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if pk, err := k.publicKey(); err == nil {
			keys[k.Kid] = pk
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set has no usable signing key")
	}
	return keys, nil
}

func (k *jwk) publicKey() (crypto.PublicKey, error) {
	b64 := base64.RawURLEncoding
	switch k.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) < 256 || len(n) > 1024 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("malformed RSA key")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, errors.New("unsupported curve")
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("malformed EC key")
		}
		// Parsed through the uncompressed point form, which checks that
		// the point is on the curve.
		point := append(append([]byte{4}, x...), y...)
		pk, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, err
		}
		return pk, nil
	}
	return nil, errors.New("unsupported key type")
}
