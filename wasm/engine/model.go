package engine

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// user is a row of users joined with its password, if any. The json tags
// name the members of the object the store reads a row as (userObject);
// responses render a user through view, never directly.
type user struct {
	ID                string `json:"user_id"`
	Email             string `json:"email"`
	EmailID           string `json:"email_id"`
	EmailVerified     bool   `json:"email_verified"`
	FirstName         string `json:"first_name"`
	MiddleName        string `json:"middle_name"`
	LastName          string `json:"last_name"`
	TrustedMetadata   string `json:"trusted_metadata"`
	UntrustedMetadata string `json:"untrusted_metadata"`
	CreatedAt         int64  `json:"created_at"`
	PasswordID        string `json:"password_id"` // empty when the user has no password
	Status            string `json:"status"`      // "active", or "pending" until the first login
	// CredentialsVersion counts changes of the user's credentials (see
	// insertSession); a session is live only under the version it was
	// started under.
	CredentialsVersion int64 `json:"credentials_version"`
	// TOTPs lists the user's verified authenticator apps, as the user
	// object shows them: [{totp_id, verified}].
	TOTPs json.RawMessage `json:"totps"`
	// Providers lists the user's provider identities.
	Providers []providerView `json:"providers"`
	// WebAuthn lists the user's passkeys and security keys.
	WebAuthn []webauthnView `json:"webauthn_registrations"`
}

// providerView is one entry of the user object's providers.
type providerView struct {
	RegistrationID    string `json:"oauth_user_registration_id"`
	ProfilePictureURL string `json:"profile_picture_url"`
	Locale            string `json:"locale"`
	ProviderSubject   string `json:"provider_subject"`
	ProviderType      string `json:"provider_type"`
}

// User statuses.
const (
	statusActive  = "active"
	statusPending = "pending"
)

// emptyList marshals as [], for the API's always-empty lists.
type emptyList [0]struct{}

// roles is the roles list of every user and session: just the default role.
type roles [1]string

const defaultRole = "stytch_user"

// userView is the user object of API.md. Its fields are in alphabetical
// order, the order the API has always written them in.
type userView struct {
	BiometricRegistrations emptyList       `json:"biometric_registrations"`
	CreatedAt              string          `json:"created_at"`
	CryptoWallets          emptyList       `json:"crypto_wallets"`
	Emails                 []emailView     `json:"emails"`
	IsLocked               bool            `json:"is_locked"`
	Name                   nameView        `json:"name"`
	Password               *passwordView   `json:"password"`
	PhoneNumbers           emptyList       `json:"phone_numbers"`
	Providers              []providerView  `json:"providers"`
	Roles                  roles           `json:"roles"`
	Status                 string          `json:"status"`
	Totps                  json.RawMessage `json:"totps"`
	TrustedMetadata        json.RawMessage `json:"trusted_metadata"`
	UntrustedMetadata      json.RawMessage `json:"untrusted_metadata"`
	UserID                 string          `json:"user_id"`
	WebauthnRegistrations  []webauthnView  `json:"webauthn_registrations"`
}

type emailView struct {
	Email    string `json:"email"`
	EmailID  string `json:"email_id"`
	Verified bool   `json:"verified"`
}

type nameView struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	MiddleName string `json:"middle_name"`
}

type passwordView struct {
	PasswordID    string `json:"password_id"`
	RequiresReset bool   `json:"requires_reset"`
}

// totps returns the user object's totps list, [] when there is none.
func (u *user) totps() json.RawMessage {
	if len(u.TOTPs) == 0 || isNull(u.TOTPs) {
		return json.RawMessage("[]")
	}
	return u.TOTPs
}

// view renders the user object of API.md.
func (u *user) view() *userView {
	v := &userView{
		CreatedAt:             stamp(u.CreatedAt),
		Emails:                []emailView{},
		Providers:             make([]providerView, len(u.Providers)),
		Name:                  nameView{FirstName: u.FirstName, LastName: u.LastName, MiddleName: u.MiddleName},
		Roles:                 roles{defaultRole},
		Status:                u.Status,
		Totps:                 u.totps(),
		TrustedMetadata:       json.RawMessage(u.TrustedMetadata),
		UntrustedMetadata:     json.RawMessage(u.UntrustedMetadata),
		UserID:                u.ID,
		WebauthnRegistrations: u.WebAuthn,
	}
	if v.WebauthnRegistrations == nil {
		v.WebauthnRegistrations = []webauthnView{}
	}
	if u.Email != "" {
		v.Emails = append(v.Emails, emailView{Email: u.Email, EmailID: u.EmailID, Verified: u.EmailVerified})
	}
	for i, p := range u.Providers {
		p.ProviderType = providerType(p.ProviderType)
		v.Providers[i] = p
	}
	if u.PasswordID != "" {
		v.Password = &passwordView{PasswordID: u.PasswordID}
	}
	return v
}

// attributes are the client details recorded on a session.
type attributes struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

// Bounds of attributes: a real browser's user agent and any IPv6 address
// (45 characters at most, more with a zone) fit. With the custom claims'
// limit they keep every session JWT under maxJWTBytes (TestLargestJWT).
const (
	maxUserAgentBytes = 1024
	maxIPAddressBytes = 64
)

// validate bounds the attributes a request carries; decodeExact calls it.
func (a *attributes) validate() error {
	switch {
	case len(a.UserAgent) > maxUserAgentBytes:
		return badRequest("attributes.user_agent may be at most %d bytes long.", maxUserAgentBytes)
	case len(a.IPAddress) > maxIPAddressBytes:
		return badRequest("attributes.ip_address may be at most %d bytes long.", maxIPAddressBytes)
	case hasControl(a.UserAgent) || hasControl(a.IPAddress):
		return badRequest("attributes may not hold control characters.")
	}
	return nil
}

// hasControl reports whether s holds an ASCII control character or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// factor is one authentication factor of a session, stored as JSON on the
// session row in exactly the shape the API returns.
type factor struct {
	Type                string                  `json:"type"`
	DeliveryMethod      string                  `json:"delivery_method"`
	CreatedAt           string                  `json:"created_at,omitempty"`
	UpdatedAt           string                  `json:"updated_at,omitempty"`
	LastAuthenticatedAt string                  `json:"last_authenticated_at"`
	EmailFactor         *emailFactor            `json:"email_factor,omitempty"`
	EmbeddedFactor      *embeddedFactor         `json:"embeddable_magic_link_factor,omitempty"`
	AuthenticatorApp    *authenticatorAppFactor `json:"authenticator_app_factor,omitempty"`
	RecoveryCode        *recoveryCodeFactor     `json:"recovery_code_factor,omitempty"`
	GoogleOAuth         *oauthFactor            `json:"google_oauth_factor,omitempty"`
	GithubOAuth         *oauthFactor            `json:"github_oauth_factor,omitempty"`
	// OAuth is the factor of a provider Stytch has no name for.
	OAuth *oauthFactor `json:"oauth_factor,omitempty"`
	// WebAuthn is a login with a passkey or security key.
	WebAuthn *webauthnFactor `json:"webauthn_factor,omitempty"`
}

// oauthFactor is a login through a provider: the identity's registration.
type oauthFactor struct {
	ID              string `json:"id"`
	ProviderSubject string `json:"provider_subject"`
	EmailID         string `json:"email_id,omitempty"`
}

// oauthOf returns f's provider registration, if f is a provider login.
func (f *factor) oauthOf() *oauthFactor {
	switch {
	case f.GoogleOAuth != nil:
		return f.GoogleOAuth
	case f.GithubOAuth != nil:
		return f.GithubOAuth
	}
	return f.OAuth
}

type authenticatorAppFactor struct {
	TOTPID string `json:"totp_id"`
}

type recoveryCodeFactor struct {
	CodeID string `json:"totp_recovery_code_id"`
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
	case f.AuthenticatorApp != nil && g.AuthenticatorApp != nil:
		return f.AuthenticatorApp.TOTPID == g.AuthenticatorApp.TOTPID
	case f.RecoveryCode != nil && g.RecoveryCode != nil:
		return f.RecoveryCode.CodeID == g.RecoveryCode.CodeID
	case f.oauthOf() != nil && g.oauthOf() != nil:
		return f.oauthOf().ID == g.oauthOf().ID
	case f.WebAuthn != nil && g.WebAuthn != nil:
		return f.WebAuthn.ID == g.WebAuthn.ID
	}
	return false
}

// session is a row of sessions. The json tags name the members of the
// object the store reads a row as (sessionObject); responses render a
// session through view, never directly.
type session struct {
	ID             string     `json:"session_id"`
	UserID         string     `json:"user_id"`
	TokenHash      string     `json:"-"` // written on insert, never read back
	StartedAt      int64      `json:"started_at"`
	LastAccessedAt int64      `json:"last_accessed_at"`
	ExpiresAt      int64      `json:"expires_at"`
	Revoked        bool       `json:"revoked"`
	Attributes     attributes `json:"attributes"`
	Factors        []factor   `json:"factors"`
	CustomClaims   claims     `json:"custom_claims"`
	Version        int64      `json:"version"`
	// CredentialsVersion is the user's credentials version the session
	// was started under (user.CredentialsVersion).
	CredentialsVersion int64 `json:"credentials_version"`
}

// live reports whether s still authenticates for its user u at now: not
// revoked, not expired, and started under u's current credentials.
func (s *session) live(u *user, now int64) bool {
	return !s.Revoked && s.ExpiresAt > now && s.CredentialsVersion == u.CredentialsVersion
}

// fullName is the user's name parts joined, "" when none is set.
func (u *user) fullName() string {
	return strings.Join(strings.Fields(u.FirstName+" "+u.MiddleName+" "+u.LastName), " ")
}

// hasTOTP reports whether u has a verified authenticator app.
func (u *user) hasTOTP() bool {
	return string(u.totps()) != "[]"
}

// maxFactorsJSON bounds a session's factors as its JWT carries them
// (jwtFactors). With the custom claims' and the attributes' limits it
// keeps every session JWT under maxJWTBytes (TestLargestJWT), however many
// passkeys, providers or recovery codes a session is stepped up with.
const maxFactorsJSON = 4096

// addFactor records f on the session, refreshing an equal factor in place.
// Factors that no longer fit maxFactorsJSON beside it are dropped, the
// least recently authenticated first: never f itself.
func (s *session) addFactor(f factor) {
	at := -1
	for i := range s.Factors {
		if s.Factors[i].sameAs(&f) {
			s.Factors[i].UpdatedAt = f.UpdatedAt
			s.Factors[i].LastAuthenticatedAt = f.LastAuthenticatedAt
			at = i
			break
		}
	}
	if at < 0 {
		s.Factors = append(s.Factors, f)
		at = len(s.Factors) - 1
	}
	for len(s.Factors) > 1 && factorsJSONLen(s.Factors) > maxFactorsJSON {
		drop := -1
		for i := range s.Factors {
			if i != at && (drop < 0 || s.Factors[i].LastAuthenticatedAt < s.Factors[drop].LastAuthenticatedAt) {
				drop = i
			}
		}
		s.Factors = slices.Delete(s.Factors, drop, drop+1)
		if drop < at {
			at--
		}
	}
}

// jwtFactors is fs as a session JWT carries them: without created_at and
// updated_at.
func jwtFactors(fs []factor) []factor {
	out := make([]factor, len(fs))
	for i, f := range fs {
		f.CreatedAt, f.UpdatedAt = "", ""
		out[i] = f
	}
	return out
}

// factorsJSONLen is the length of fs in a session JWT's claims.
func factorsJSONLen(fs []factor) int {
	b, err := marshalJWTJSON(jwtFactors(fs))
	if err != nil { // plain strings and structs: unreachable
		return math.MaxInt
	}
	return len(b)
}

// sessionView is the session object of API.md, fields in alphabetical
// order like userView.
type sessionView struct {
	Attributes            attributes `json:"attributes"`
	AuthenticationFactors []factor   `json:"authentication_factors"`
	CustomClaims          claims     `json:"custom_claims"`
	ExpiresAt             string     `json:"expires_at"`
	LastAccessedAt        string     `json:"last_accessed_at"`
	Roles                 roles      `json:"roles"`
	SessionID             string     `json:"session_id"`
	StartedAt             string     `json:"started_at"`
	UserID                string     `json:"user_id"`
}

// view renders the session object of API.md.
func (s *session) view() *sessionView {
	factors := s.Factors
	if factors == nil {
		factors = []factor{}
	}
	cc := s.CustomClaims
	if cc == nil {
		cc = claims{}
	}
	return &sessionView{
		Attributes:            s.Attributes,
		AuthenticationFactors: factors,
		CustomClaims:          cc,
		ExpiresAt:             stamp(s.ExpiresAt),
		LastAccessedAt:        stamp(s.LastAccessedAt),
		Roles:                 roles{defaultRole},
		SessionID:             s.ID,
		StartedAt:             stamp(s.StartedAt),
		UserID:                s.UserID,
	}
}
