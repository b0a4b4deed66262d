package verifier

import (
	"encoding/json"
	"strings"
	"time"
)

// Session is an authenticated session: the "https://stytch.com/session"
// claim of a verified JWT, or the session object the edge returned.
//
// Every Session the Verifier returns is the caller's own: its slices, maps
// and factor pointers share nothing with the Verifier's caches or with
// another caller's Session, so a handler may change it freely.
type Session struct {
	SessionID             string
	UserID                string
	StartedAt             time.Time
	LastAccessedAt        time.Time
	ExpiresAt             time.Time
	Attributes            Attributes
	AuthenticationFactors []AuthenticationFactor
	Roles                 []string
	// CustomClaims are the session's custom claims (top-level JWT claims
	// other than the registered ones and those under https://stytch.com/).
	// Nil when there are none.
	CustomClaims map[string]any
}

// Attributes are the request attributes recorded when the session was
// created. Either may be empty.
type Attributes struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

// AuthenticationFactor is one way the user proved who they are. Exactly
// one of the factor pointers is set for the factors Latch issues.
type AuthenticationFactor struct {
	Type                      string                     `json:"type"`
	DeliveryMethod            string                     `json:"delivery_method"`
	LastAuthenticatedAt       time.Time                  `json:"last_authenticated_at"`
	CreatedAt                 time.Time                  `json:"created_at"` // zero in JWTs
	UpdatedAt                 time.Time                  `json:"updated_at"` // zero in JWTs
	EmailFactor               *EmailFactor               `json:"email_factor,omitempty"`
	EmbeddableMagicLinkFactor *EmbeddableMagicLinkFactor `json:"embeddable_magic_link_factor,omitempty"`
}

// EmailFactor identifies the email address a factor was delivered to.
type EmailFactor struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

// EmbeddableMagicLinkFactor identifies an embeddable magic link factor.
type EmbeddableMagicLinkFactor struct {
	EmbeddedID string `json:"embedded_id"`
}

// readSessionClaim decodes the "https://stytch.com/session" claim into s.
func (sc *scanner) readSessionClaim(s *Session) {
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "id":
			s.SessionID = sc.optStr()
		case "started_at":
			s.StartedAt = sc.time()
		case "last_accessed_at":
			s.LastAccessedAt = sc.time()
		case "expires_at":
			s.ExpiresAt = sc.time()
		case "attributes":
			sc.readAttributes(&s.Attributes)
		case "authentication_factors":
			s.AuthenticationFactors = sc.readFactors()
		case "roles":
			s.Roles = sc.strings(s.Roles[:0])
		default:
			sc.skipValue(0)
		}
	}
}

func (sc *scanner) readAttributes(a *Attributes) {
	if sc.null() {
		return
	}
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "ip_address":
			a.IPAddress = sc.optStr()
		case "user_agent":
			a.UserAgent = sc.optStr()
		default:
			sc.skipValue(0)
		}
	}
}

func (sc *scanner) readFactors() []AuthenticationFactor {
	if sc.null() {
		return nil
	}
	var out []AuthenticationFactor
	sc.expect('[')
	for first := true; sc.more(']', &first); {
		if out == nil {
			out = make([]AuthenticationFactor, 0, 1)
		}
		out = append(out, AuthenticationFactor{})
		sc.readFactor(&out[len(out)-1])
	}
	return out
}

func (sc *scanner) readFactor(f *AuthenticationFactor) {
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "type":
			f.Type = sc.optStr()
		case "delivery_method":
			f.DeliveryMethod = sc.optStr()
		case "last_authenticated_at":
			f.LastAuthenticatedAt = sc.time()
		case "created_at":
			f.CreatedAt = sc.time()
		case "updated_at":
			f.UpdatedAt = sc.time()
		case "email_factor":
			if !sc.null() {
				f.EmailFactor = &EmailFactor{}
				sc.readEmailFactor(f.EmailFactor)
			}
		case "embeddable_magic_link_factor":
			if !sc.null() {
				f.EmbeddableMagicLinkFactor = &EmbeddableMagicLinkFactor{}
				sc.expect('{')
				var seen names
				for first := true; sc.more('}', &first); {
					if sc.key(&seen) == "embedded_id" {
						f.EmbeddableMagicLinkFactor.EmbeddedID = sc.optStr()
					} else {
						sc.skipValue(0)
					}
				}
			}
		default:
			sc.skipValue(0)
		}
	}
}

func (sc *scanner) readEmailFactor(e *EmailFactor) {
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "email_id":
			e.EmailID = sc.optStr()
		case "email_address":
			e.EmailAddress = sc.optStr()
		default:
			sc.skipValue(0)
		}
	}
}

// decodeCustomClaim decodes one custom claim's JSON text.
func decodeCustomClaim(raw string) (any, error) {
	var v any
	err := json.Unmarshal([]byte(raw), &v)
	return v, err
}

// decodeRemoteClaim decodes one custom claim of the edge's answer as
// decodeCustomClaim does, except that a number beyond float64 stays a
// json.Number.
func decodeRemoteClaim(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return floatNumbers(v), nil
}

// floatNumbers replaces, in place, every json.Number in v that is a
// finite float64 by that float64, so that claims read from the edge have
// the types Verify gives them.
func floatNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
	case map[string]any:
		for k, e := range v {
			v[k] = floatNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = floatNumbers(e)
		}
	}
	return v
}

// sessionBlock holds a Session and room for the slices and factor structs
// of a typical one (one factor, one role), so that clone costs a single
// allocation for it. See RATIONALE.md, "Why does Verify copy the session
// it returns?".
type sessionBlock struct {
	s     Session
	f     [1]AuthenticationFactor
	email EmailFactor
	eml   EmbeddableMagicLinkFactor
	role  [1]string
}

// clone returns a deep copy of s: nothing reachable from the result is
// shared with s. Strings are immutable and are shared.
func (s *Session) clone() *Session {
	b := &sessionBlock{s: *s}
	c := &b.s
	switch n := len(s.AuthenticationFactors); {
	case n == 1:
		b.f[0] = s.AuthenticationFactors[0]
		c.AuthenticationFactors = b.f[:1:1]
		if f := &b.f[0]; f.EmailFactor != nil {
			b.email = *f.EmailFactor
			f.EmailFactor = &b.email
		}
		if f := &b.f[0]; f.EmbeddableMagicLinkFactor != nil {
			b.eml = *f.EmbeddableMagicLinkFactor
			f.EmbeddableMagicLinkFactor = &b.eml
		}
	case n > 1:
		c.AuthenticationFactors = make([]AuthenticationFactor, n)
		for i, f := range s.AuthenticationFactors {
			if f.EmailFactor != nil {
				e := *f.EmailFactor
				f.EmailFactor = &e
			}
			if f.EmbeddableMagicLinkFactor != nil {
				e := *f.EmbeddableMagicLinkFactor
				f.EmbeddableMagicLinkFactor = &e
			}
			c.AuthenticationFactors[i] = f
		}
	}
	switch n := len(s.Roles); {
	case n == 1:
		b.role[0] = s.Roles[0]
		c.Roles = b.role[:1:1]
	case n > 1:
		c.Roles = append([]string(nil), s.Roles...)
	}
	if s.CustomClaims != nil {
		c.CustomClaims = cloneClaims(s.CustomClaims)
	}
	return c
}

// cloneClaims deep-copies decoded JSON objects: custom claim values are
// trees of map[string]any and []any with immutable leaves.
func cloneClaims(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneJSON(v)
	}
	return out
}

func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneClaims(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}
