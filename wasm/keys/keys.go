// Package keys generates, encodes and loads Latch's RSA signing keys as a
// JWK set, and signs with them in pure Go for hosts that have no signing
// service of their own (native tests, the wazero host).
package keys

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/google/uuid"

	"github.com/latchauth/latch/wasm/engine"
)

// bits is the size of generated keys.
const bits = 2048

// Key is a private RSA signing key and its kid. RetiredAt is when it
// stopped signing (Unix seconds), 0 while it signs: a retired key only
// checks the JWTs it signed (the expired JWT of a live session still
// authenticates) and leaves the JWKS once they have all expired.
type Key struct {
	KID       string
	Private   *rsa.PrivateKey
	RetiredAt int64
}

// ErrNoKeys is returned for a key set that holds no usable key.
var ErrNoKeys = errors.New("keys: no RSA signing key in set")

// Generate makes a new key with a kid of the form jwk-<env>-<uuid>.
func Generate(random io.Reader, env string) (Key, error) {
	priv, err := rsa.GenerateKey(random, bits)
	if err != nil {
		return Key{}, fmt.Errorf("keys: generate: %w", err)
	}
	id, err := uuid.NewRandomFromReader(random)
	if err != nil {
		return Key{}, fmt.Errorf("keys: kid: %w", err)
	}
	return Key{KID: "jwk-" + env + "-" + id.String(), Private: priv}, nil
}

type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	// RetiredAt, a Latch member, is when the key stopped signing.
	RetiredAt int64  `json:"retired_at,omitempty"`
	D         string `json:"d,omitempty"`
	P         string `json:"p,omitempty"`
	Q         string `json:"q,omitempty"`
	DP        string `json:"dp,omitempty"`
	DQ        string `json:"dq,omitempty"`
	QI        string `json:"qi,omitempty"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

var b64 = base64.RawURLEncoding

func encInt(i *big.Int) string { return b64.EncodeToString(i.Bytes()) }

func decInt(field, s string) (*big.Int, error) {
	if s == "" {
		return nil, fmt.Errorf("keys: missing %q", field)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("keys: %q: %w", field, err)
	}
	return new(big.Int).SetBytes(b), nil
}

// MarshalSet encodes keys as a JWK set with private members, the form the
// Worker's LATCH_SIGNING_KEYS secret takes. The first unretired key signs.
func MarshalSet(keys []Key) ([]byte, error) {
	set := jwkSet{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		p := k.Private
		p.Precompute()
		set.Keys = append(set.Keys, jwk{
			Kty: "RSA", Use: "sig", Alg: "RS256", Kid: k.KID,
			N: encInt(p.N), E: encInt(big.NewInt(int64(p.E))), D: encInt(p.D),
			P: encInt(p.Primes[0]), Q: encInt(p.Primes[1]),
			DP: encInt(p.Precomputed.Dp), DQ: encInt(p.Precomputed.Dq), QI: encInt(p.Precomputed.Qinv),
			RetiredAt: k.RetiredAt,
		})
	}
	return json.Marshal(set)
}

// ParseSet decodes a JWK set with private RSA members. Keys must be RSA,
// have a kid, and pass rsa.PrivateKey.Validate; one at least must be
// unretired.
func ParseSet(data []byte) ([]Key, error) {
	var set jwkSet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("keys: parse set: %w", err)
	}
	out := make([]Key, 0, len(set.Keys))
	for i, k := range set.Keys {
		key, err := parseKey(k)
		if err != nil {
			return nil, fmt.Errorf("keys: key %d: %w", i, err)
		}
		out = append(out, key)
	}
	if _, err := signingKey(out); err != nil {
		return nil, err
	}
	return out, nil
}

func parseKey(k jwk) (Key, error) {
	if k.Kty != "RSA" {
		return Key{}, fmt.Errorf("keys: kty %q is not RSA", k.Kty)
	}
	if k.Kid == "" {
		return Key{}, errors.New("keys: missing kid")
	}
	fields := []struct{ name, val string }{{"n", k.N}, {"e", k.E}, {"d", k.D}, {"p", k.P}, {"q", k.Q}}
	ints := make([]*big.Int, len(fields))
	for i, f := range fields {
		v, err := decInt(f.name, f.val)
		if err != nil {
			return Key{}, err
		}
		ints[i] = v
	}
	if !ints[1].IsInt64() || ints[1].Int64() > 1<<31-1 {
		return Key{}, errors.New("keys: exponent too large")
	}
	if k.RetiredAt < 0 {
		return Key{}, fmt.Errorf("keys: %s: negative retired_at", k.Kid)
	}
	priv := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: ints[0], E: int(ints[1].Int64())},
		D:         ints[2],
		Primes:    []*big.Int{ints[3], ints[4]},
	}
	if err := priv.Validate(); err != nil {
		return Key{}, fmt.Errorf("keys: %s: %w", k.Kid, err)
	}
	priv.Precompute()
	return Key{KID: k.Kid, Private: priv, RetiredAt: k.RetiredAt}, nil
}

// signingKey returns the index of the first unretired key.
func signingKey(ks []Key) (int, error) {
	for i, k := range ks {
		if k.RetiredAt == 0 {
			return i, nil
		}
	}
	return 0, ErrNoKeys
}

// Rotate returns set with a new key generated from random first, signing
// from now on, and every key that signed until now retired at now. Keys
// retired before dropBefore (Unix seconds; 0 keeps them all) are left out:
// once no session that was live when they retired can still be, nobody
// holds a JWT they signed that could authenticate.
func Rotate(set []Key, random io.Reader, env string, now, dropBefore int64) ([]Key, error) {
	k, err := Generate(random, env)
	if err != nil {
		return nil, err
	}
	out := []Key{k}
	for _, old := range set {
		if old.RetiredAt == 0 {
			old.RetiredAt = now
		}
		if old.RetiredAt >= dropBefore {
			out = append(out, old)
		}
	}
	return out, nil
}

// Public returns the public half of k in the engine's form.
func Public(k Key) engine.PublicKey {
	return engine.PublicKey{
		KID:       k.KID,
		N:         encInt(k.Private.N),
		E:         encInt(big.NewInt(int64(k.Private.E))),
		RetiredAt: k.RetiredAt,
	}
}

// Signer signs with the first of its unretired keys and lists all of them.
type Signer struct {
	sign   Key
	public []engine.PublicKey
}

var _ engine.Signer = (*Signer)(nil)

// NewSigner returns a pure-Go RS256 signer over keys; the first
// unretired key signs.
func NewSigner(keys []Key) (*Signer, error) {
	i, err := signingKey(keys)
	if err != nil {
		return nil, err
	}
	s := &Signer{sign: keys[i]}
	for _, k := range keys {
		s.public = append(s.public, Public(k))
	}
	return s, nil
}

// KeyID returns the kid of the signing key.
func (s *Signer) KeyID() string { return s.sign.KID }

// PublicKeys returns every key, retired ones included, in set order.
func (s *Signer) PublicKeys() []engine.PublicKey { return s.public }

// Sign signs input with the signing key, RS256.
func (s *Signer) Sign(_ context.Context, input []byte) ([]byte, error) {
	sum := sha256.Sum256(input)
	sig, err := rsa.SignPKCS1v15(nil, s.sign.Private, crypto.SHA256, sum[:])
	if err != nil {
		return nil, fmt.Errorf("keys: sign: %w", err)
	}
	return sig, nil
}

// Project is what a new project needs: its id, its secret and a first
// signing key.
type Project struct {
	ID     string
	Secret string
	Keys   []Key
}

// NewProject makes a project of env ("test" or "live") from random: an id
// "project-<env>-<uuid>", a secret of 256 random bits and a signing key.
func NewProject(random io.Reader, env string) (Project, error) {
	id, err := NewProjectID(random, env)
	if err != nil {
		return Project{}, err
	}
	secret, err := NewSecret(random, env)
	if err != nil {
		return Project{}, err
	}
	k, err := Generate(random, env)
	if err != nil {
		return Project{}, err
	}
	return Project{ID: id, Secret: secret, Keys: []Key{k}}, nil
}

// NewProjectID returns "project-<env>-<uuid v4>" from random.
func NewProjectID(random io.Reader, env string) (string, error) {
	id, err := uuid.NewRandomFromReader(random)
	if err != nil {
		return "", fmt.Errorf("keys: project id: %w", err)
	}
	return "project-" + env + "-" + id.String(), nil
}

// NewSecret returns a project secret: "secret-<env>-" and 32 random bytes
// in unpadded base64url.
func NewSecret(random io.Reader, env string) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("keys: secret: %w", err)
	}
	return "secret-" + env + "-" + b64.EncodeToString(b), nil
}

// NewSet returns a JWK set (MarshalSet) holding one new signing key.
func NewSet(random io.Reader, env string) ([]byte, error) {
	k, err := Generate(random, env)
	if err != nil {
		return nil, err
	}
	return MarshalSet([]Key{k})
}
