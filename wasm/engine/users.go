package engine

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"strings"
)

type nameArgs struct {
	FirstName  string `json:"first_name"`
	MiddleName string `json:"middle_name"`
	LastName   string `json:"last_name"`
}

// normalEmail returns the canonical (trimmed, lower-case) form of a
// well-formed address, or invalid_email.
func normalEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 || strings.ContainsAny(s, " <>\"(),;:\\[]") {
		return "", errInvalidEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return "", errInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", errInvalidEmail
	}
	return s, nil
}

// validate bounds a new user's name as PUT /v1/users bounds a changed
// one; decodeExact calls it.
func (n *nameArgs) validate() error {
	return checkNameParts(&n.FirstName, &n.MiddleName, &n.LastName)
}

// newMetadata reads the metadata of a new user as PUT /v1/users reads a
// change to it (members named once, at most maxMetadataKeys of them, at
// most maxMetadataBytes in all) and returns its text. Anything but an
// object (or nothing) is a bad_request, as API.md has always said.
func newMetadata(field string, raw json.RawMessage) (string, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '{' && !isNull(t) {
		return "", badRequest("%s must be a JSON object.", field)
	}
	m, err := metadataUpdate(raw)
	if err != nil {
		return "", err
	}
	return mergeMetadata("{}", m)
}

// newUser builds (but does not store) a user from request fields.
func (e *Engine) newUser(email string, name nameArgs, trusted, untrusted json.RawMessage) (*user, error) {
	addr, err := normalEmail(email)
	if err != nil {
		return nil, err
	}
	tm, err := newMetadata("trusted_metadata", trusted)
	if err != nil {
		return nil, err
	}
	um, err := newMetadata("untrusted_metadata", untrusted)
	if err != nil {
		return nil, err
	}
	return &user{
		ID: e.newID("user"), Email: addr, EmailID: e.newID("email"),
		FirstName: name.FirstName, MiddleName: name.MiddleName, LastName: name.LastName,
		TrustedMetadata: tm, UntrustedMetadata: um, CreatedAt: e.now(), Status: statusActive,
	}, nil
}

// POST /v1/users
func (e *Engine) createUser(c *call) error {
	var a struct {
		Email             string          `json:"email"`
		Name              nameArgs        `json:"name"`
		TrustedMetadata   json.RawMessage `json:"trusted_metadata"`
		UntrustedMetadata json.RawMessage `json:"untrusted_metadata"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	u, err := e.newUser(a.Email, a.Name, a.TrustedMetadata, a.UntrustedMetadata)
	if err != nil {
		return err
	}
	if err := e.insertUser(c.r.Context(), u); err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "email_id": u.EmailID, "status": u.Status, "user": u.view()})
	return nil
}

// pathUser loads the user named in the path.
func (e *Engine) pathUser(c *call) (*user, error) {
	id := c.r.PathValue("user_id")
	if !e.validID("user", id) {
		return nil, errInvalidUserID
	}
	return e.userByID(c.r.Context(), id)
}

// GET /v1/users/{user_id}
func (e *Engine) getUser(c *call) error {
	u, err := e.pathUser(c)
	if err != nil {
		return err
	}
	// The user object's fields sit at the top level here, beside the
	// envelope, in one alphabetical order.
	b, err := json.Marshal(u.view())
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	fields := make(map[string]any, len(top)+2)
	for k, v := range top {
		fields[k] = v
	}
	c.reply(fields)
	return nil
}

// DELETE /v1/users/{user_id} — revokes every session of the user first.
func (e *Engine) deleteUser(c *call) error {
	u, err := e.pathUser(c)
	if err != nil {
		return err
	}
	if err := e.deleteUserRows(c.r.Context(), u.ID, e.now()); err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID})
	return nil
}
