package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxCustomClaimsBytes = 4096
	// maxClaimDepth bounds how deeply a custom claim's value nests: a
	// scalar claim is depth 1, each array or object one more. Every JWT
	// reader Latch ships reads far deeper (the verifier 32 levels).
	maxClaimDepth = 16
)

// claims are a session's custom claims: top-level JWT claims chosen by the
// app, each value kept in the canonical form claimUpdate gives it.
type claims map[string]json.RawMessage

// reservedClaims are the registered claims of RFC 7519 that Latch mints
// itself or that JWT libraries read.
var reservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

const stytchClaimPrefix = "https://stytch.com/"

// checkClaimName refuses a custom claim name that could be read as one of
// the claims Latch mints: a registered claim name or one under
// https://stytch.com/, compared under Unicode case folding, since JWT
// libraries that decode claims into structs with encoding/json (golang-jwt's
// RegisteredClaims) read "Sub" or "ſub" as sub. See RATIONALE.md, "Why are
// claim names compared case-insensitively?".
func checkClaimName(name string) error {
	for _, r := range reservedClaims {
		if strings.EqualFold(name, r) {
			return errReservedClaims
		}
	}
	if hasPrefixFold(name, stytchClaimPrefix) {
		return errStytchClaims
	}
	return nil
}

// hasPrefixFold reports whether s begins with prefix under Unicode case
// folding, character by character: "HTTPſ://" folds to "https://" though
// the two differ in length.
func hasPrefixFold(s, prefix string) bool {
	for _, want := range prefix {
		got, size := utf8.DecodeRuneInString(s)
		if size == 0 || (got != want && !strings.EqualFold(string(got), string(want))) {
			return false
		}
		s = s[size:]
	}
	return true
}

// claimUpdate is session_custom_claims as a request carries it: claim
// names checked, each value re-encoded canonically (null means delete).
// Decoding refuses what some JWT reader could read differently from the
// engine: a member named twice at any depth, a number that is not a finite
// float64 (1e400), invalid UTF-8, or nesting deeper than maxClaimDepth.
type claimUpdate map[string]json.RawMessage

func (u *claimUpdate) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*u = nil
		return nil
	}
	if !utf8.Valid(data) {
		return badRequest("session_custom_claims must be valid UTF-8.")
	}
	m, err := objectMembers(data)
	if err != nil {
		return claimsError(err)
	}
	for name, raw := range m {
		if err := checkClaimName(name); err != nil {
			return err
		}
		v, err := canonicalValue(raw)
		if err != nil {
			return claimsError(err)
		}
		m[name] = v
	}
	*u = m
	return nil
}

func claimsError(err error) error {
	if ae := asAPIError(err); ae != errInternal {
		return ae
	}
	if dup, ok := err.(*duplicateError); ok {
		return badRequest("session_custom_claims names the member %q more than once.", dup.name)
	}
	return badRequest("session_custom_claims must be a JSON object.")
}

var (
	errClaimTooDeep  = badRequest("session_custom_claims may nest at most %d levels deep.", maxClaimDepth)
	errClaimBadValue = badRequest("session_custom_claims holds a number outside the range of a 64-bit float.")
)

// canonicalValue reads one JSON value and writes it back as encoding/json
// writes it: objects with sorted, unique member names, numbers as given
// (once checked to be finite float64s), strings re-escaped.
func canonicalValue(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readValue(dec, 1)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func readValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxClaimDepth {
		return nil, errClaimTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for dec.More() {
				v, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := tok.(string)
			if _, dup := obj[name]; dup {
				return nil, &duplicateError{name: clip(name)}
			}
			if obj[name], err = readValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token()
		return obj, err
	case json.Number:
		if _, err := strconv.ParseFloat(t.String(), 64); err != nil {
			return nil, errClaimBadValue
		}
	}
	return tok, nil
}

// merge applies update to c: supplied keys overwrite, a key set to null is
// deleted, others persist. The result must serialise within the limit.
func (c claims) merge(update claimUpdate) (claims, error) {
	out := make(claims, len(c)+len(update))
	for k, v := range c {
		out[k] = v
	}
	for k, v := range update {
		if isNull(v) {
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
