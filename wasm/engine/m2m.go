package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Machine-to-machine clients: the /v1/m2m/clients endpoints. The token
// endpoint is in m2m_token.go, rotation in m2m_secrets.go, the statements
// in m2m_store.go. See RATIONALE.md, "Machine-to-machine tokens".

const (
	m2mStatusActive   = "active"
	m2mStatusInactive = "inactive"

	maxClientIDBytes          = 128
	minClientSecretChars      = 32
	maxClientSecretChars      = 128
	clientSecretBytes         = 32
	maxClientNameBytes        = 256
	maxClientDescriptionBytes = 1024
	maxScopes                 = 64
	maxScopeBytes             = 128
)

var (
	errM2MClientNotFound = newError(http.StatusNotFound, "m2m_client_not_found", "M2M client could not be found.")
	errInvalidClientID   = newError(http.StatusBadRequest, "invalid_client_id", "client_id must be 1 to %d letters, digits, '-' or '_'.", maxClientIDBytes)
	errDuplicateClientID = newError(http.StatusBadRequest, "duplicate_client_id", "An M2M client with this client_id already exists.")
	errInvalidSecret     = newError(http.StatusBadRequest, "invalid_client_secret", "client_secret must be %d to %d printable ASCII characters, without spaces.", minClientSecretChars, maxClientSecretChars)
	errInvalidScopes     = newError(http.StatusBadRequest, "invalid_scopes", "scopes must be at most %d scopes, each 1 to %d printable ASCII characters without spaces, quotes or backslashes.", maxScopes, maxScopeBytes)
	errInvalidM2MStatus  = newError(http.StatusBadRequest, "invalid_status", "status must be \"active\" or \"inactive\".")
	errClientName        = newError(http.StatusBadRequest, "invalid_client_name", "client_name may be at most %d bytes, without control characters.", maxClientNameBytes)
	errClientDescription = newError(http.StatusBadRequest, "invalid_client_description", "client_description may be at most %d bytes, without control characters.", maxClientDescriptionBytes)
)

// m2mClient is a client row as the store reads it (m2mClientObject).
// Scopes and TrustedMetadata stay the JSON text stored, so that a
// conditional write can name exactly what it read.
type m2mClient struct {
	ID                 string  `json:"client_id"`
	Name               string  `json:"client_name"`
	Description        string  `json:"client_description"`
	Status             string  `json:"status"`
	Scopes             string  `json:"scopes"`
	TrustedMetadata    string  `json:"trusted_metadata"`
	SecretHash         string  `json:"secret_hash"`
	SecretLastFour     string  `json:"secret_last_four"`
	NextSecretHash     string  `json:"next_secret_hash"`
	NextSecretLastFour *string `json:"next_secret_last_four"`
	CreatedAt          int64   `json:"created_at"`
	FailedCount        int64   `json:"failed_count"`
	FailedWindowAt     int64   `json:"failed_window_at"`
}

// m2mClientView is the API's m2m_client, members in alphabetical order.
// ClientSecret is shown only by the creation's answer, NextClientSecret
// only by rotate/start's.
type m2mClientView struct {
	ClientDescription        string          `json:"client_description"`
	ClientID                 string          `json:"client_id"`
	ClientName               string          `json:"client_name"`
	ClientSecret             string          `json:"client_secret,omitempty"`
	ClientSecretLastFour     string          `json:"client_secret_last_four"`
	NextClientSecret         string          `json:"next_client_secret,omitempty"`
	NextClientSecretLastFour *string         `json:"next_client_secret_last_four"`
	Scopes                   json.RawMessage `json:"scopes"`
	Status                   string          `json:"status"`
	TrustedMetadata          json.RawMessage `json:"trusted_metadata"`
}

func (m *m2mClient) view() *m2mClientView {
	return &m2mClientView{
		ClientDescription: m.Description, ClientID: m.ID, ClientName: m.Name,
		ClientSecretLastFour: m.SecretLastFour, NextClientSecretLastFour: m.NextSecretLastFour,
		Scopes: json.RawMessage(m.Scopes), Status: m.Status, TrustedMetadata: json.RawMessage(m.TrustedMetadata),
	}
}

// scopeList is the client's scopes, as stored.
func (m *m2mClient) scopeList() ([]string, error) {
	var s []string
	if err := json.Unmarshal([]byte(m.Scopes), &s); err != nil {
		return nil, fmt.Errorf("engine: stored scopes of %s: %w", m.ID, err)
	}
	return s, nil
}

// validClientID reports whether s may name a client: the engine's own
// m2m-client-<env>-<uuid>, or an id of the caller's choosing in the same
// alphabet, which never needs escaping in a path or a Basic credential.
func validClientID(s string) bool {
	if len(s) == 0 || len(s) > maxClientIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validSecret reports whether s may be a client secret a caller chose.
func validSecret(s string) bool {
	if len(s) < minClientSecretChars || len(s) > maxClientSecretChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validScope reports whether s is an RFC 6749 scope-token (section 3.3)
// of at most maxScopeBytes.
func validScope(s string) bool {
	if len(s) == 0 || len(s) > maxScopeBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// scopesText checks a client's scope list and returns it as stored: JSON,
// in the order given, each scope once.
func scopesText(scopes []string) (string, error) {
	if len(scopes) > maxScopes {
		return "", errInvalidScopes
	}
	out := make([]string, 0, len(scopes))
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		if !validScope(s) {
			return "", errInvalidScopes
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", errInvalidScopes
	}
	return string(b), nil
}

func checkClientText(s string, max int, bad *apiError) error {
	if len(s) > max || hasControl(s) {
		return bad
	}
	return nil
}

// newClientSecret returns 32 random bytes as unpadded base64url (43
// characters).
func (e *Engine) newClientSecret() (string, error) {
	b, err := e.randomBytes(clientSecretBytes)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func lastFour(secret string) string { return secret[len(secret)-4:] }

// m2mClientCreate is the body of POST /v1/m2m/clients.
type m2mClientCreate struct {
	ClientID          string          `json:"client_id"`
	ClientSecret      string          `json:"client_secret"`
	ClientName        string          `json:"client_name"`
	ClientDescription string          `json:"client_description"`
	Scopes            []string        `json:"scopes"`
	TrustedMetadata   json.RawMessage `json:"trusted_metadata"`

	scopes, metadata string // as stored, once validated
}

func (a *m2mClientCreate) validate(*Engine) error {
	var err error
	switch {
	case a.ClientID != "" && !validClientID(a.ClientID):
		return errInvalidClientID
	case a.ClientSecret != "" && !validSecret(a.ClientSecret):
		return errInvalidSecret
	}
	if err = checkClientText(a.ClientName, maxClientNameBytes, errClientName); err != nil {
		return err
	}
	if err = checkClientText(a.ClientDescription, maxClientDescriptionBytes, errClientDescription); err != nil {
		return err
	}
	if a.scopes, err = scopesText(a.Scopes); err != nil {
		return err
	}
	a.metadata, err = newMetadata("trusted_metadata", a.TrustedMetadata)
	return err
}

// POST /v1/m2m/clients — the answer is the only one that shows the
// client's secret.
func (e *Engine) createM2MClient(c *call) error {
	var a m2mClientCreate
	if err := e.read(c, &a); err != nil {
		return err
	}
	if a.ClientID == "" {
		a.ClientID = e.newID("m2m-client")
	}
	secret := a.ClientSecret
	if secret == "" {
		var err error
		if secret, err = e.newClientSecret(); err != nil {
			return err
		}
	}
	m := &m2mClient{
		ID: a.ClientID, Name: a.ClientName, Description: a.ClientDescription, Status: m2mStatusActive,
		Scopes: a.scopes, TrustedMetadata: a.metadata, SecretHash: hashToken(secret), SecretLastFour: lastFour(secret),
		CreatedAt: e.now(),
	}
	if err := e.insertM2MClient(c.r.Context(), m); err != nil {
		return err
	}
	v := m.view()
	v.ClientSecret = secret
	c.reply(map[string]any{"m2m_client": v})
	return nil
}

// pathClientID is the client_id of the path, checked.
func pathClientID(c *call) (string, error) {
	id := c.r.PathValue("client_id")
	if !validClientID(id) {
		return "", errInvalidClientID
	}
	return id, nil
}

// GET /v1/m2m/clients/{client_id}
func (e *Engine) getM2MClient(c *call) error {
	id, err := pathClientID(c)
	if err != nil {
		return err
	}
	m, err := e.m2mClientByID(c.r.Context(), id)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"m2m_client": m.view()})
	return nil
}

// m2mClientUpdate is the body of PUT /v1/m2m/clients/{client_id}: only
// the members given change.
type m2mClientUpdate struct {
	ClientName        *string         `json:"client_name"`
	ClientDescription *string         `json:"client_description"`
	Status            *string         `json:"status"`
	Scopes            *[]string       `json:"scopes"`
	TrustedMetadata   json.RawMessage `json:"trusted_metadata"`

	scopes   string // as stored, when given
	metadata map[string]json.RawMessage
}

func (a *m2mClientUpdate) validate(*Engine) error {
	var err error
	if a.ClientName != nil {
		if err = checkClientText(*a.ClientName, maxClientNameBytes, errClientName); err != nil {
			return err
		}
	}
	if a.ClientDescription != nil {
		if err = checkClientText(*a.ClientDescription, maxClientDescriptionBytes, errClientDescription); err != nil {
			return err
		}
	}
	if a.Status != nil && *a.Status != m2mStatusActive && *a.Status != m2mStatusInactive {
		return errInvalidM2MStatus
	}
	if a.Scopes != nil {
		if a.scopes, err = scopesText(*a.Scopes); err != nil {
			return err
		}
	}
	a.metadata, err = metadataUpdate(a.TrustedMetadata)
	return err
}

// apply returns m changed as a asks.
func (a *m2mClientUpdate) apply(m *m2mClient) (*m2mClient, error) {
	next := *m
	if a.ClientName != nil {
		next.Name = *a.ClientName
	}
	if a.ClientDescription != nil {
		next.Description = *a.ClientDescription
	}
	if a.Status != nil {
		next.Status = *a.Status
	}
	if a.Scopes != nil {
		next.Scopes = a.scopes
	}
	var err error
	next.TrustedMetadata, err = mergeMetadata(m.TrustedMetadata, a.metadata)
	return &next, err
}

// PUT /v1/m2m/clients/{client_id} — trusted_metadata merges at the top
// level as a user's does. A deactivation ends every token the client
// holds (a feed event, written by the store's trigger).
func (e *Engine) updateM2MClient(c *call) error {
	var a m2mClientUpdate
	if err := e.read(c, &a); err != nil {
		return err
	}
	id, err := pathClientID(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	for range updateAttempts {
		m, err := e.m2mClientByID(ctx, id)
		if err != nil {
			return err
		}
		next, err := a.apply(m)
		if err != nil {
			return err
		}
		err = e.writeM2MClient(ctx, m, next, e.now())
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if m.Status == m2mStatusActive && next.Status != m2mStatusActive {
			e.revoked()
		}
		c.reply(map[string]any{"m2m_client": next.view()})
		return nil
	}
	return fmt.Errorf("engine: m2m client %s: %w", id, errConflict)
}

// DELETE /v1/m2m/clients/{client_id} — the client's tokens end with it
// (a feed event).
func (e *Engine) deleteM2MClient(c *call) error {
	id, err := pathClientID(c)
	if err != nil {
		return err
	}
	if err := e.deleteM2MClientRow(c.r.Context(), id, e.now()); err != nil {
		return err
	}
	e.revoked()
	c.reply(map[string]any{"client_id": id})
	return nil
}
