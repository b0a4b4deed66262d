package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Authenticate returns the session for a session JWT or an opaque session
// token. A JWT is verified locally first; when it has expired, is older
// than Config.MaxTokenAge, is signed by a key this Verifier does not know
// or the keys cannot be loaded, Authenticate asks the edge
// (POST /v1/sessions/authenticate), which also catches sessions revoked
// since the JWT was minted. An opaque token always goes to the edge.
//
// freshJWT is the JWT the edge minted, to hand back to the client (for
// example in the stytch_session_jwt cookie); it is empty when the JWT was
// accepted locally.
func (v *Verifier) Authenticate(ctx context.Context, token string) (session *Session, freshJWT string, err error) {
	if strings.IndexByte(token, '.') < 0 {
		if err := checkOpaque(token); err != nil {
			return nil, "", err
		}
		return v.remote(ctx, "session_token", token)
	}
	s, err := v.Verify(ctx, token)
	if err == nil {
		return s, "", nil
	}
	if !needsEdge(err) || v.cfg.secret == "" {
		return nil, "", err
	}
	return v.remote(ctx, "session_jwt", token)
}

// needsEdge reports whether a local failure is one the edge may overturn.
func needsEdge(err error) bool {
	return errors.Is(err, ErrExpired) || errors.Is(err, ErrTooOld) ||
		errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrKeysUnavailable)
}

func checkOpaque(token string) error {
	if token == "" || len(token) > 256 {
		return fmt.Errorf("%w: session token length %d", ErrMalformed, len(token))
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: session token has a byte outside printable ASCII", ErrMalformed)
		}
	}
	return nil
}

// authenticateResponse is the part of the edge's answer Authenticate uses.
type authenticateResponse struct {
	Session    *remoteSession `json:"session"`
	SessionJWT string         `json:"session_jwt"`
}

func (v *Verifier) remote(ctx context.Context, field, token string) (*Session, string, error) {
	if v.cfg.secret == "" {
		return nil, "", ErrNoSecret
	}
	body, err := json.Marshal(map[string]string{field: token})
	if err != nil {
		return nil, "", fmt.Errorf("verifier: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.baseURL+"/v1/sessions/authenticate", bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("verifier: %w", err)
	}
	req.SetBasicAuth(v.cfg.projectID, v.cfg.secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBodyBytes))
	if err != nil {
		return nil, "", fmt.Errorf("%w: read response: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &RemoteError{}
		if json.Unmarshal(data, re) != nil || re.StatusCode != resp.StatusCode {
			re = &RemoteError{StatusCode: resp.StatusCode, ErrorType: "unexpected_response"}
		}
		return nil, "", re
	}
	var out authenticateResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, "", fmt.Errorf("%w: decode response: %w", ErrUnavailable, err)
	}
	if out.Session == nil || out.Session.SessionID == "" || out.Session.UserID == "" {
		return nil, "", fmt.Errorf("%w: response without a session", ErrUnavailable)
	}
	return out.Session.session(), out.SessionJWT, nil
}
