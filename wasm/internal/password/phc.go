package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The encoded form is the PHC string format used by the reference argon2
// implementation: $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>,
// salt and key in unpadded standard base64.
const (
	algorithm     = "argon2id"
	versionField  = "v=19"
	maxEncodedLen = 256 // far above the longest hash the bounds allow
)

var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	var b strings.Builder
	b.Grow(48 + b64.EncodedLen(len(salt)) + b64.EncodedLen(len(key)))
	b.WriteString("$" + algorithm + "$" + versionField + "$m=")
	b.WriteString(strconv.FormatUint(uint64(p.Memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(p.Time), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(p.Threads), 10))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(key))
	return b.String()
}

// decode parses a stored hash strictly: one algorithm, one version, the
// parameters in canonical order without leading zeros, and parameter,
// salt and key sizes within the bounds of Params.Validate, so that a
// corrupt row cannot make Verify allocate or compute without limit.
func decode(s string) (p Params, salt, key []byte, err error) {
	if len(s) > maxEncodedLen {
		return Params{}, nil, nil, fmt.Errorf("%w: %d bytes", ErrMalformedHash, len(s))
	}
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return Params{}, nil, nil, fmt.Errorf("%w: no leading '$'", ErrMalformedHash)
	}
	alg, rest, _ := strings.Cut(rest, "$")
	if alg != algorithm {
		return Params{}, nil, nil, fmt.Errorf("%w: algorithm %q", ErrUnsupportedHash, truncate(alg))
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 4 {
		return Params{}, nil, nil, fmt.Errorf("%w: %d fields after the algorithm, want 4", ErrMalformedHash, len(fields))
	}
	if fields[0] != versionField {
		if v, ok := strings.CutPrefix(fields[0], "v="); ok {
			if _, err := parseDecimal(v); err == nil {
				return Params{}, nil, nil, fmt.Errorf("%w: version %q", ErrUnsupportedHash, truncate(v))
			}
		}
		return Params{}, nil, nil, fmt.Errorf("%w: version field %q", ErrMalformedHash, truncate(fields[0]))
	}
	if p, err = parseParams(fields[1]); err != nil {
		return Params{}, nil, nil, err
	}
	if salt, err = decodeBase64(fields[2]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: salt: %w", ErrMalformedHash, err)
	}
	if key, err = decodeBase64(fields[3]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: key: %w", ErrMalformedHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("stored hash: %w", err)
	}
	return p, salt, key, nil
}

// decodeBase64 decodes unpadded standard base64, refusing the line breaks
// that encoding/base64 otherwise skips, so that the accepted form is unique.
func decodeBase64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, errNotBase64
		}
	}
	return b64.DecodeString(s)
}

// parseParams parses "m=<n>,t=<n>,p=<n>" in exactly that order.
func parseParams(s string) (Params, error) {
	var vals [3]uint32
	for i, name := range [3]string{"m=", "t=", "p="} {
		var field string
		if i < 2 {
			var ok bool
			if field, s, ok = strings.Cut(s, ","); !ok {
				return Params{}, fmt.Errorf("%w: parameters %q", ErrMalformedHash, truncate(field))
			}
		} else {
			field = s
		}
		digits, ok := strings.CutPrefix(field, name)
		if !ok {
			return Params{}, fmt.Errorf("%w: parameter %q, want %s<n>", ErrMalformedHash, truncate(field), name)
		}
		v, err := parseDecimal(digits)
		if err != nil {
			return Params{}, fmt.Errorf("%w: parameter %s%q: %w", ErrMalformedHash, name, truncate(digits), err)
		}
		vals[i] = v
	}
	if vals[2] > maxThreads {
		return Params{}, fmt.Errorf("%w: stored hash: threads %d not in 1..%d", ErrInvalidParams, vals[2], maxThreads)
	}
	return Params{Memory: vals[0], Time: vals[1], Threads: uint8(vals[2])}, nil
}

// parseDecimal accepts the canonical decimal form of a uint32: digits only,
// no sign, no leading zeros.
func parseDecimal(s string) (uint32, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errNotCanonical
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errNotCanonical
		}
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errNotCanonical
	}
	return uint32(v), nil
}

// Only ever wrapped under ErrMalformedHash.
var (
	errNotCanonical = errors.New("not a canonical decimal")
	errNotBase64    = errors.New("not unpadded standard base64")
)

// truncate keeps error messages about stored hashes short.
func truncate(s string) string {
	const n = 16
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
