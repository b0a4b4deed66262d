package verifier

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// M2MToken is a verified M2M access token: a JWT the edge minted for an
// M2M client through the client credentials grant
// (POST /v1/public/{project_id}/oauth2/token).
//
// Every M2MToken the Verifier returns is the caller's own: its slice and
// map share nothing with the Verifier's caches.
type M2MToken struct {
	// ClientID is the client the token was minted for (the sub claim).
	ClientID string
	// Scopes are the token's scopes (the scope claim, split at spaces),
	// in the token's order.
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Claims are the token's other claims: top-level claims other than
	// the registered ones, scope and those under https://stytch.com/.
	// Nil when there are none.
	Claims map[string]any
}

// m2mClaims is what a verified M2M access token holds beyond the
// registered claims, as the token cache keeps it.
type m2mClaims struct {
	clientID      string
	scopes        []string
	issued, until int64 // iat and exp, Unix seconds
	custom        map[string]any
}

// VerifyM2M checks an M2M access token locally and returns it. It accepts
// what Verify accepts of a JWT's header, signature, iss, aud, exp, nbf and
// iat, against the same keys, and further requires a scope claim and no
// session claim: a session JWT fails with ErrNotM2M (and an M2M access
// token given to Verify fails with ErrMalformed). Config.MaxTokenAge does
// not apply: it bounds session JWTs, which the edge renews.
//
// requiredScopes are checked as Stytch's backend SDKs check them
// (m2m.authenticateToken's required_scopes): each must be granted by one
// of the token's scopes, or VerifyM2M fails with ErrInsufficientScope. A
// scope is an action alone ("read_users") or "action:resource"
// ("read:users"); a granted "action:*" grants that action on every
// resource and the action alone. Nothing else is a wildcard: "*" alone
// is an action named "*", and "read" does not grant "read:users".
// Stytch's SDKs read only the part before a second colon; VerifyM2M reads
// the resource whole ("read:users:own" grants only "read:users:own"), so
// it never grants what they would refuse.
//
// With the revocation feed on, a token of a client the feed reported as
// deactivated, deleted or rotated to a new secret at or after the token's
// iat fails with ErrRevoked, and a token the feed cannot vouch for fails
// with ErrFeedStale, as Verify's do. There is no edge to fall back on for
// M2M tokens. VerifyM2M makes no network call except the JWKS fetch an
// unknown kid may cause. The M2MToken is the caller's own to change.
func (v *Verifier) VerifyM2M(ctx context.Context, token string, requiredScopes ...string) (*M2MToken, error) {
	e, err := v.verify(ctx, token, true, v.cfg.now())
	if err != nil {
		return nil, err
	}
	m := e.m2m
	for _, want := range requiredScopes {
		if !grants(m.scopes, want) {
			return nil, fmt.Errorf("%w: %q not granted to client %q", ErrInsufficientScope, clip(want), clip(m.clientID))
		}
	}
	return m.token(), nil
}

// wrongKind is the error for a verified token of the other kind: a
// session JWT given to VerifyM2M (m2m true), or the reverse.
func wrongKind(m2m bool) error {
	if m2m {
		return fmt.Errorf("%w: a session JWT", ErrNotM2M)
	}
	return fmt.Errorf("%w: no session claim (not a session JWT)", ErrMalformed)
}

// readM2MClaims reads an M2M access token's claims into m and checks
// them as readClaims does a session JWT's.
func (v *Verifier) readM2MClaims(payload string, m *m2mClaims) (claims, error) {
	var c claims
	var scope string
	sc := scanner{s: payload}
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch k := sc.key(&seen); {
		case c.registered(&sc, k, v.cfg.projectID):
		case k == "scope":
			c.hasScope = true
			scope = sc.str()
		case k == "https://stytch.com/session":
			c.hasSession = true
			sc.skipValue(0)
		default:
			if err := sc.customClaim(k, &m.custom); err != nil {
				return c, err
			}
		}
	}
	sc.end()
	if err := v.checkClaims(&sc, &c); err != nil {
		return c, err
	}
	switch {
	case c.hasSession:
		return c, wrongKind(true)
	case !c.hasScope:
		return c, fmt.Errorf("%w: no scope claim", ErrNotM2M)
	case c.sub == "":
		return c, fmt.Errorf("%w: sub is required", ErrMalformed)
	}
	m.clientID = c.sub
	m.scopes = strings.Fields(scope)
	m.issued, m.until = c.iat, c.exp
	return c, nil
}

// grants reports whether the scopes granted grant the scope want, as
// Stytch's SDKs decide it: the same action, and the same resource or a
// granted "*" resource (which also grants the action alone).
func grants(granted []string, want string) bool {
	action, resource, hasResource := strings.Cut(want, ":")
	for _, g := range granted {
		ga, gr, gHasResource := strings.Cut(g, ":")
		if ga != action {
			continue
		}
		if gHasResource && gr == "*" || gHasResource == hasResource && gr == resource {
			return true
		}
	}
	return false
}

// token returns the caller's own copy of m.
func (m *m2mClaims) token() *M2MToken {
	t := &M2MToken{
		ClientID:  m.clientID,
		Scopes:    append([]string(nil), m.scopes...),
		IssuedAt:  time.Unix(m.issued, 0).UTC(),
		ExpiresAt: time.Unix(m.until, 0).UTC(),
	}
	if m.custom != nil {
		t.Claims = cloneClaims(m.custom)
	}
	return t
}
