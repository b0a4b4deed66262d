package verifier

import (
	"encoding/json"
	"time"
)

// Session is an authenticated session: the "https://stytch.com/session"
// claim of a verified JWT, or the session object the edge returned.
//
// A Session returned by Verify shares its slices and maps with the
// Verifier's cache of verified tokens: treat it as read-only.
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

// remoteSession is the session object of the edge's API responses.
type remoteSession struct {
	SessionID             string                 `json:"session_id"`
	UserID                string                 `json:"user_id"`
	StartedAt             time.Time              `json:"started_at"`
	LastAccessedAt        time.Time              `json:"last_accessed_at"`
	ExpiresAt             time.Time              `json:"expires_at"`
	Attributes            Attributes             `json:"attributes"`
	AuthenticationFactors []AuthenticationFactor `json:"authentication_factors"`
	CustomClaims          map[string]any         `json:"custom_claims"`
	Roles                 []string               `json:"roles"`
}

func (r *remoteSession) session() *Session {
	s := &Session{
		SessionID:             r.SessionID,
		UserID:                r.UserID,
		StartedAt:             r.StartedAt,
		LastAccessedAt:        r.LastAccessedAt,
		ExpiresAt:             r.ExpiresAt,
		Attributes:            r.Attributes,
		AuthenticationFactors: r.AuthenticationFactors,
		Roles:                 r.Roles,
		CustomClaims:          r.CustomClaims,
	}
	if len(s.CustomClaims) == 0 {
		s.CustomClaims = nil
	}
	return s
}

// decodeCustomClaim decodes one custom claim's JSON text.
func decodeCustomClaim(raw string) (any, error) {
	var v any
	err := json.Unmarshal([]byte(raw), &v)
	return v, err
}
