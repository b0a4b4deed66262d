package engine

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The token endpoint: OAuth 2.0 client credentials (RFC 6749 section 4.4)
// for M2M clients. Its errors are RFC 6749 section 5.2 bodies, not
// Stytch's envelope; see RATIONALE.md, "Why does the token endpoint answer
// in RFC 6749's shape?".

const (
	// m2mTokenLifetime is how long an M2M access token is valid, in seconds.
	m2mTokenLifetime = 3600
	// maxTokenBodyBytes bounds a token request: the longest valid one
	// (every scope of a client, the longest id and secret) is under 9 KiB.
	maxTokenBodyBytes = 16 << 10
	// m2mFailLimit wrong secrets within m2mFailWindow seconds hold every
	// token request of the client until the window has passed.
	m2mFailLimit  = 10
	m2mFailWindow = 60
)

// oauthError is an RFC 6749 section 5.2 answer of the token endpoint.
// Its description never carries a secret.
type oauthError struct {
	status      int
	code        string
	description string
	challenge   bool // answer WWW-Authenticate: Basic (RFC 6749 section 5.2)
}

func (e *oauthError) Error() string { return "engine: token: " + e.code + ": " + e.description }

func invalidRequest(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: fmt.Sprintf(format, args...)}
}

var (
	errTokenClient      = &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication failed: unknown or inactive client, or wrong secret.", challenge: true}
	errTokenNoClient    = &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication is required: client_id and client_secret in HTTP Basic or in the body.", challenge: true}
	errTokenGrant       = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "Only the client_credentials grant is supported."}
	errTokenScope       = &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "scope must be space-separated scopes the client holds."}
	errTokenProject     = &oauthError{status: http.StatusNotFound, code: "invalid_request", description: "No such project."}
	errTokenRateLimited = &oauthError{status: http.StatusTooManyRequests, code: "temporarily_unavailable", description: "Too many wrong secrets for this client; try again in a minute."}
)

// tokenRequest is a client credentials grant as read from the body and
// the Authorization header.
type tokenRequest struct {
	clientID, clientSecret string
	scopes                 []string // nil when no scope was asked for: all of the client's
}

// tokenParams are the parameters of RFC 6749 the endpoint reads; others
// are ignored, as section 3.2 says.
var tokenParams = []string{"grant_type", "client_id", "client_secret", "scope"}

// readTokenRequest reads a token request: the body form-encoded or JSON
// (by Content-Type; without one, JSON when it starts with "{"), the
// credentials there or in HTTP Basic with form-encoded halves (RFC 6749
// section 2.3.1), never both.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (*tokenRequest, error) {
	params, err := tokenBody(w, r)
	if err != nil {
		return nil, err
	}
	var a tokenRequest
	_, basic := r.Header["Authorization"]
	if basic {
		id, secret, ok := r.BasicAuth()
		if ok {
			id, err = url.QueryUnescape(id)
			if err == nil {
				secret, err = url.QueryUnescape(secret)
			}
		}
		if !ok || err != nil {
			return nil, errTokenNoClient
		}
		a.clientID, a.clientSecret = id, secret
	}
	switch gt, ok := params["grant_type"]; {
	case !ok || gt == "":
		return nil, invalidRequest("grant_type is required.")
	case gt != "client_credentials":
		return nil, errTokenGrant
	}
	if id, ok := params["client_id"]; ok && !(basic && id == a.clientID) {
		if basic {
			return nil, invalidRequest("Send the client's credentials in HTTP Basic or in the body, not both.")
		}
		a.clientID = id
	}
	if secret, ok := params["client_secret"]; ok {
		if basic {
			return nil, invalidRequest("Send the client's credentials in HTTP Basic or in the body, not both.")
		}
		a.clientSecret = secret
	}
	if a.clientID == "" || a.clientSecret == "" {
		return nil, errTokenNoClient
	}
	if scope := params["scope"]; scope != "" {
		if a.scopes, err = requestedScopes(scope); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// tokenBody reads the parameters of the body, each at most once.
func tokenBody(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", description: fmt.Sprintf("The request body exceeds %d bytes.", maxTokenBodyBytes)}
		}
		return nil, invalidRequest("Could not read the request body.")
	}
	body = bytes.TrimSpace(body)
	media := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if media, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, invalidRequest("The Content-Type is malformed.")
		}
	} else if len(body) > 0 && body[0] == '{' {
		media = "application/json"
	}
	params := map[string]string{}
	switch media {
	case "application/json":
		m, err := objectMembers(body)
		if err != nil {
			return nil, invalidRequest("The request body must be a JSON object, each member named once.")
		}
		for _, name := range tokenParams {
			raw, ok := m[name]
			if !ok || isNull(raw) {
				continue
			}
			s, ok := jsonString(raw)
			if !ok {
				return nil, invalidRequest("%s must be a string.", name)
			}
			params[name] = s
		}
	case "application/x-www-form-urlencoded", "":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalidRequest("The request body is not valid form encoding.")
		}
		for _, name := range tokenParams {
			switch v := q[name]; len(v) {
			case 0:
			case 1:
				params[name] = v[0]
			default:
				return nil, invalidRequest("%s is given more than once.", name)
			}
		}
	default:
		return nil, invalidRequest("The body must be application/x-www-form-urlencoded or application/json.")
	}
	return params, nil
}

// requestedScopes reads a scope parameter: scope-tokens separated by
// spaces, each kept once.
func requestedScopes(scope string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range strings.Split(scope, " ") {
		if s == "" || seen[s] {
			continue
		}
		if !validScope(s) || len(out) == maxScopes {
			return nil, errTokenScope
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

// POST /v1/public/{project_id}/oauth2/token — no project credentials: the
// client's own authenticate it.
func (e *Engine) m2mToken(c *call) error {
	h := c.w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	err := e.issueM2MToken(c)
	if err == nil {
		return nil
	}
	var oe *oauthError
	if !errors.As(err, &oe) {
		e.cfg.Logger.Error("engine: request failed", "request_id", c.requestID, "path", clip(c.r.URL.Path), "err", err)
		oe = &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "An unexpected error occurred."}
	}
	if oe.challenge {
		h.Set("WWW-Authenticate", `Basic realm="latch"`)
	}
	if oe == errTokenRateLimited {
		h.Set("Retry-After", strconv.Itoa(m2mFailWindow))
	}
	c.writeJSON(oe.status, map[string]string{"error": oe.code, "error_description": oe.description})
	return nil
}

// m2mTokenAnswer is the token endpoint's success: RFC 6749 section 5.1
// and Stytch's envelope, members in alphabetical order.
type m2mTokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	RequestID   string `json:"request_id"`
	StatusCode  int    `json:"status_code"`
	TokenType   string `json:"token_type"`
}

// issueM2MToken authenticates the client and mints its token: the
// handler skeleton, with the check of step 3 and the write of step 4 in
// one conditional statement (claimM2MIssue).
func (e *Engine) issueM2MToken(c *call) error {
	if c.r.PathValue("project_id") != e.cfg.ProjectID {
		return errTokenProject
	}
	a, err := readTokenRequest(c.w, c.r)
	if err != nil {
		return err
	}
	if !validClientID(a.clientID) || len(a.clientSecret) > maxClientSecretChars {
		return errTokenClient
	}
	ctx := c.r.Context()
	hash := hashToken(a.clientSecret)
	for range updateAttempts {
		// iat is taken before the client is read: a token is never
		// younger than the read that allowed it (RATIONALE.md, "Why is
		// a token refused when its iat is at or before the event?").
		iat := e.now()
		m, err := e.m2mClientByID(ctx, a.clientID)
		if errors.Is(err, errM2MClientNotFound) {
			return errTokenClient
		}
		if err != nil {
			return err
		}
		if m.FailedCount >= m2mFailLimit && m.FailedWindowAt > iat-m2mFailWindow {
			return errTokenRateLimited
		}
		if !secretMatches(hash, m) {
			if err := e.countM2MFailure(ctx, m.ID, iat); err != nil {
				return err
			}
			return errTokenClient
		}
		if m.Status != m2mStatusActive {
			return errTokenClient
		}
		scopes, err := grantedScopes(m, a.scopes)
		if err != nil {
			return err
		}
		err = e.claimM2MIssue(ctx, m, hash, iat)
		if errors.Is(err, errConflict) {
			continue // the client changed since the read: judge it again
		}
		if err != nil {
			return err
		}
		tok, err := e.mintM2MJWT(ctx, m.ID, scopes, iat)
		if err != nil {
			return err
		}
		c.replyWith(&m2mTokenAnswer{AccessToken: tok, ExpiresIn: m2mTokenLifetime, RequestID: c.requestID,
			StatusCode: http.StatusOK, TokenType: "bearer"})
		return nil
	}
	return fmt.Errorf("engine: m2m token for %s: %w", a.clientID, errConflict)
}

// secretMatches compares the hash of the presented secret with the
// client's current and next secret, both in constant time.
func secretMatches(hash string, m *m2mClient) bool {
	cur := subtle.ConstantTimeCompare([]byte(hash), []byte(m.SecretHash))
	next := 0
	if m.NextSecretHash != "" {
		next = subtle.ConstantTimeCompare([]byte(hash), []byte(m.NextSecretHash))
	}
	return cur|next == 1
}

// grantedScopes is what the token carries: the scopes asked for when the
// client holds each, all of the client's when none were asked for.
func grantedScopes(m *m2mClient, asked []string) ([]string, error) {
	held, err := m.scopeList()
	if err != nil {
		return nil, err
	}
	if asked == nil {
		return held, nil
	}
	has := make(map[string]bool, len(held))
	for _, s := range held {
		has[s] = true
	}
	for _, s := range asked {
		if !has[s] {
			return nil, errTokenScope
		}
	}
	return asked, nil
}

// countM2MFailure counts a wrong secret in the client's current window,
// or starts a new window.
func (e *Engine) countM2MFailure(ctx context.Context, id string, now int64) error {
	cut := now - m2mFailWindow
	_, err := e.cfg.DB.ExecContext(ctx, `UPDATE m2m_clients SET
		failed_count = CASE WHEN failed_window_at <= ? THEN 1 ELSE failed_count + 1 END,
		failed_window_at = CASE WHEN failed_window_at <= ? THEN ? ELSE failed_window_at END
		WHERE client_id = ?`, cut, cut, now, id)
	if err != nil {
		return fmt.Errorf("engine: count m2m failure: %w", err)
	}
	return nil
}

// claimM2MIssue records iat as issued, on the condition that the client
// is still active, under the secret presented and with the scopes read;
// errConflict when it no longer is. A deactivation, deletion or rotation
// is a statement either before this one (then nothing matches) or after
// it (then its feed event is no older than iat, see migration 0008).
func (e *Engine) claimM2MIssue(ctx context.Context, m *m2mClient, hash string, iat int64) error {
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE m2m_clients SET issued_at = max(issued_at, ?)
		WHERE client_id = ? AND status = 'active' AND (secret_hash = ? OR next_secret_hash = ?) AND scopes = ?`,
		iat, m.ID, hash, hash, m.Scopes)
	if err != nil {
		return fmt.Errorf("engine: m2m token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: m2m token: %w", err)
	}
	if n == 0 {
		return errConflict
	}
	return nil
}
