package engine

import "encoding/json"

// user is a row of users joined with its password, if any.
type user struct {
	ID                string
	Email             string
	EmailID           string
	EmailVerified     bool
	FirstName         string
	MiddleName        string
	LastName          string
	TrustedMetadata   string
	UntrustedMetadata string
	CreatedAt         int64
	PasswordID        string // empty when the user has no password
}

// view renders the user object of API.md.
func (u *user) view() map[string]any {
	var pw any
	if u.PasswordID != "" {
		pw = map[string]any{"password_id": u.PasswordID, "requires_reset": false}
	}
	return map[string]any{
		"user_id": u.ID,
		"emails":  []map[string]any{{"email_id": u.EmailID, "email": u.Email, "verified": u.EmailVerified}},
		"status":  "active",
		"name": map[string]string{
			"first_name": u.FirstName, "middle_name": u.MiddleName, "last_name": u.LastName,
		},
		"created_at":              stamp(u.CreatedAt),
		"password":                pw,
		"trusted_metadata":        json.RawMessage(u.TrustedMetadata),
		"untrusted_metadata":      json.RawMessage(u.UntrustedMetadata),
		"phone_numbers":           []any{},
		"providers":               []any{},
		"totps":                   []any{},
		"webauthn_registrations":  []any{},
		"crypto_wallets":          []any{},
		"biometric_registrations": []any{},
		"roles":                   []string{"stytch_user"},
		"is_locked":               false,
	}
}

// attributes are the client details recorded on a session.
type attributes struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

// factor is one authentication factor of a session, stored as JSON on the
// session row in exactly the shape the API returns.
type factor struct {
	Type                string          `json:"type"`
	DeliveryMethod      string          `json:"delivery_method"`
	CreatedAt           string          `json:"created_at,omitempty"`
	UpdatedAt           string          `json:"updated_at,omitempty"`
	LastAuthenticatedAt string          `json:"last_authenticated_at"`
	EmailFactor         *emailFactor    `json:"email_factor,omitempty"`
	EmbeddedFactor      *embeddedFactor `json:"embeddable_magic_link_factor,omitempty"`
}

type emailFactor struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

type embeddedFactor struct {
	EmbeddedID string `json:"embedded_id"`
}

// sameAs reports whether f and g are the same factor, authenticated again.
func (f *factor) sameAs(g *factor) bool {
	if f.Type != g.Type || f.DeliveryMethod != g.DeliveryMethod {
		return false
	}
	switch {
	case f.EmailFactor != nil && g.EmailFactor != nil:
		return f.EmailFactor.EmailID == g.EmailFactor.EmailID
	case f.EmbeddedFactor != nil && g.EmbeddedFactor != nil:
		return f.EmbeddedFactor.EmbeddedID == g.EmbeddedFactor.EmbeddedID
	}
	return false
}

// session is a row of sessions.
type session struct {
	ID             string
	UserID         string
	TokenHash      string
	StartedAt      int64
	LastAccessedAt int64
	ExpiresAt      int64
	Revoked        bool
	Attributes     attributes
	Factors        []factor
	CustomClaims   claims
	Version        int64
}

func (s *session) live(now int64) bool { return !s.Revoked && s.ExpiresAt > now }

// addFactor records f on the session, refreshing an equal factor in place.
func (s *session) addFactor(f factor) {
	for i := range s.Factors {
		if s.Factors[i].sameAs(&f) {
			s.Factors[i].UpdatedAt = f.UpdatedAt
			s.Factors[i].LastAuthenticatedAt = f.LastAuthenticatedAt
			return
		}
	}
	s.Factors = append(s.Factors, f)
}

// view renders the session object of API.md.
func (s *session) view() map[string]any {
	factors := s.Factors
	if factors == nil {
		factors = []factor{}
	}
	cc := s.CustomClaims
	if cc == nil {
		cc = claims{}
	}
	return map[string]any{
		"session_id":             s.ID,
		"user_id":                s.UserID,
		"started_at":             stamp(s.StartedAt),
		"last_accessed_at":       stamp(s.LastAccessedAt),
		"expires_at":             stamp(s.ExpiresAt),
		"attributes":             s.Attributes,
		"authentication_factors": factors,
		"custom_claims":          cc,
		"roles":                  []string{"stytch_user"},
	}
}
