package verifier

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxTokenLen bounds the JWTs Verify reads. Latch limits custom claims
// to 4 KB, so its JWTs stay well under this.
const maxTokenLen = 16 << 10

const stytchClaimPrefix = "https://stytch.com/"

// verify is Verify (m2m false) or VerifyM2M (m2m true) without the copy
// of the result: the token cache first, then the full check. A cached
// token of the other kind is refused as a fresh one would be.
func (v *Verifier) verify(ctx context.Context, token string, m2m bool, now time.Time) (*verified, error) {
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxTokenLen)
	}
	dot1, dot2 := splitToken(token)
	if dot1 < 0 {
		return nil, fmt.Errorf("%w: not three dot-separated parts", ErrMalformed)
	}
	signingInput, sig := token[:dot2], token[dot2+1:]
	buf := v.bufs.Get().(*[]byte)
	defer v.bufs.Put(buf)
	*buf = append((*buf)[:0], signingInput...)
	sum := sha256.Sum256(*buf)
	e := v.tokens.get(&sum, sig, unixSeconds(now))
	if e == nil || v.keys.known(e.kid, now) != e.key {
		var err error
		if e, err = v.verifyFull(ctx, token[:dot1], token[dot1+1:dot2], sig, &sum, (*buf)[:cap(*buf)], m2m, now); err != nil {
			return nil, err
		}
	} else if (e.m2m != nil) != m2m {
		return nil, wrongKind(m2m)
	}
	if v.feed != nil {
		if err := v.feed.check(ctx, e, now); err != nil {
			if errors.Is(err, ErrRevoked) {
				v.tokens.drop(&sum)
			}
			return nil, err
		}
	}
	return e, nil
}

// verifyFull checks the header, finds the key, checks the signature and
// only then decodes and checks the claims. scratch is a buffer of
// maxTokenLen bytes.
func (v *Verifier) verifyFull(ctx context.Context, header, payload, sig string, sum *[32]byte, scratch []byte, m2m bool, now time.Time) (*verified, error) {
	kid, known := v.headers.get(header)
	if !known {
		var err error
		if kid, err = parseHeader(header); err != nil {
			return nil, err
		}
	}
	key, err := v.keys.lookup(ctx, kid, now)
	if err != nil {
		return nil, err
	}
	var sigBuf [1024]byte
	n, ok := decodeSegment(sigBuf[:], sig)
	if !ok {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sigBuf[:n]); err != nil {
		return nil, fmt.Errorf("%w (kid %q)", ErrInvalidSignature, clip(kid))
	}
	n, ok = decodeSegment(scratch, payload)
	if !ok {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	// One allocation holds the claims JSON (which the session's strings
	// point into) and the signature the cache entry compares against.
	all := string(append(scratch[:n], sig...))
	e := &verified{kid: kid, key: key, sig: all[n:]}
	var c claims
	maxAge := v.cfg.maxAge
	if m2m {
		e.m2m = &m2mClaims{}
		c, err = v.readM2MClaims(all[:n], e.m2m)
		maxAge = 0 // MaxTokenAge bounds session JWTs, which the edge renews
	} else {
		c, err = v.readClaims(all[:n], &e.session)
	}
	if err != nil {
		return nil, err
	}
	if err := v.checkTimes(&c, e, maxAge, unixSeconds(now)); err != nil {
		return nil, err
	}
	v.tokens.put(sum, e)
	if !known {
		v.headers.add(strings.Clone(header), kid)
	}
	return e, nil
}

// splitToken returns the positions of the two dots of a compact JWS, or
// -1, -1 unless there are exactly two and the header is not empty.
// (strings.IndexByte is vectorised; LastIndexByte is not.)
func splitToken(token string) (int, int) {
	dot1 := strings.IndexByte(token, '.')
	if dot1 <= 0 {
		return -1, -1
	}
	rel := strings.IndexByte(token[dot1+1:], '.')
	if rel < 0 {
		return -1, -1
	}
	dot2 := dot1 + 1 + rel
	if strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return -1, -1
	}
	return dot1, dot2
}

// parseHeader checks the JOSE header and returns its kid. Only
// {"alg":"RS256","typ":"JWT","kid":…} passes, names and the typ value
// matched exactly (Latch mints exactly this; "ALG" is not alg, "jwt" is
// not JWT, and a missing typ fails). A repeated member fails, as does any
// crit parameter, as none is understood.
func parseHeader(seg string) (string, error) {
	var buf [512]byte
	n, ok := decodeSegment(buf[:], seg)
	if !ok {
		return "", fmt.Errorf("%w: header is not base64url of at most %d bytes", ErrMalformed, len(buf))
	}
	sc := scanner{s: string(buf[:n])}
	var alg, typ, kid string
	var crit bool
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "alg":
			alg = sc.str()
		case "typ":
			typ = sc.str()
		case "kid":
			kid = sc.str()
		case "crit":
			crit = true
			sc.skipValue(0)
		default:
			sc.skipValue(0)
		}
	}
	sc.end()
	switch {
	case sc.bad:
		return "", fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	case alg != "RS256":
		return "", fmt.Errorf("%w: alg %q", ErrUnsupportedAlgorithm, clip(alg))
	case typ != "JWT": // exactly what Latch mints; a missing typ fails too
		return "", fmt.Errorf("%w: typ %q", ErrUnsupportedAlgorithm, clip(typ))
	case crit:
		return "", fmt.Errorf("%w: crit header", ErrUnsupportedAlgorithm)
	case kid == "":
		return "", fmt.Errorf("%w: no kid", ErrMalformed)
	}
	return kid, nil
}

// claims are the registered claims Verify and VerifyM2M check.
type claims struct {
	iss, sub               string
	audOK, hasAud          bool
	exp, nbf, iat          int64
	hasExp, hasNbf, hasIat bool
	hasSession             bool
	hasScope               bool
}

func (v *Verifier) readClaims(payload string, s *Session) (claims, error) {
	var c claims
	sc := scanner{s: payload}
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch k := sc.key(&seen); {
		case c.registered(&sc, k, v.cfg.projectID):
		case k == "https://stytch.com/session":
			c.hasSession = true
			sc.readSessionClaim(s)
		default:
			if err := sc.customClaim(k, &s.CustomClaims); err != nil {
				return c, err
			}
		}
	}
	sc.end()
	s.UserID = c.sub
	if err := v.checkClaims(&sc, &c); err != nil {
		return c, err
	}
	switch {
	case !c.hasSession:
		// An M2M access token has none: VerifyM2M reads those.
		return c, fmt.Errorf("%w: no session claim (not a session JWT)", ErrMalformed)
	case c.sub == "" || s.SessionID == "":
		return c, fmt.Errorf("%w: sub and the session id are required", ErrMalformed)
	}
	return c, nil
}

// registered reads the registered claim k into c and reports whether k
// is one (iss, sub, aud, exp, nbf, iat, jti).
func (c *claims) registered(sc *scanner, k, projectID string) bool {
	switch k {
	case "iss":
		c.iss = sc.str()
	case "sub":
		c.sub = sc.str()
	case "aud":
		c.hasAud = true
		c.audOK = sc.audience(projectID)
	case "exp":
		c.exp, c.hasExp = sc.seconds(false), true
	case "nbf":
		c.nbf, c.hasNbf = sc.seconds(true), true
	case "iat":
		c.iat, c.hasIat = sc.seconds(true), true
	case "jti":
		sc.skipValue(0)
	default:
		return false
	}
	return true
}

// customClaim reads the value of member k into *dst, made on first use,
// unless k is under https://stytch.com/ (skipped).
func (sc *scanner) customClaim(k string, dst *map[string]any) error {
	raw := sc.skip()
	if sc.bad || strings.HasPrefix(k, stytchClaimPrefix) {
		return nil
	}
	val, err := decodeCustomClaim(raw)
	if err != nil {
		return fmt.Errorf("%w: custom claim: %w", ErrMalformed, err)
	}
	if *dst == nil {
		*dst = make(map[string]any)
	}
	(*dst)[k] = val
	return nil
}

// checkClaims checks what every Latch JWT carries, once sc has read the
// whole payload: its shape, iss, aud, exp and iat.
func (v *Verifier) checkClaims(sc *scanner, c *claims) error {
	switch {
	case sc.bad:
		return fmt.Errorf("%w: claims are not a JSON object of the expected shape", ErrMalformed)
	case c.iss != v.cfg.issuer && (v.cfg.altIssuer == "" || c.iss != v.cfg.altIssuer):
		return fmt.Errorf("%w %q", ErrInvalidIssuer, clip(c.iss))
	case !c.audOK:
		return fmt.Errorf("%w: %q not in aud", ErrInvalidAudience, v.cfg.projectID)
	case !c.hasExp || !c.hasIat:
		return fmt.Errorf("%w: exp and iat are required", ErrMalformed)
	}
	return nil
}

// audience reads aud (a string or an array of strings) and reports
// whether it holds want.
func (sc *scanner) audience(want string) bool {
	if sc.peek() == '"' {
		return sc.str() == want
	}
	ok := false
	sc.expect('[')
	for first := true; sc.more(']', &first); {
		if sc.str() == want {
			ok = true
		}
	}
	return ok
}

// checkTimes checks exp, nbf, iat and maxAge (0 for none) against now,
// all in Unix seconds, and records in e the window in which the answer holds.
func (v *Verifier) checkTimes(c *claims, e *verified, maxAge, now int64) error {
	lee := v.cfg.leeway
	e.until = c.exp + lee
	e.iat = c.iat
	e.from = c.iat - lee
	if c.hasNbf && c.nbf-lee > e.from {
		e.from = c.nbf - lee
	}
	tooOld := int64(0)
	if maxAge > 0 {
		tooOld = c.iat + maxAge + lee
		e.until = min(e.until, tooOld)
	}
	switch {
	case now >= c.exp+lee:
		return fmt.Errorf("%w: %ds ago", ErrExpired, now-c.exp)
	case tooOld != 0 && now >= tooOld:
		return fmt.Errorf("%w: issued %ds ago, limit %ds", ErrTooOld, now-c.iat, maxAge)
	case c.hasNbf && now < c.nbf-lee:
		return fmt.Errorf("%w: nbf is %ds ahead", ErrNotYetValid, c.nbf-now)
	case now < c.iat-lee:
		return fmt.Errorf("%w: iat is %ds ahead", ErrNotYetValid, c.iat-now)
	}
	return nil
}
