package verifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Authenticate returns the session for a session JWT or an opaque session
// token. A JWT is verified locally first; when it has expired, is older
// than Config.MaxTokenAge, is signed by a key this Verifier does not know,
// the keys cannot be loaded or the revocation feed cannot vouch for it
// (ErrFeedStale), Authenticate asks the edge
// (POST /v1/sessions/authenticate), which also catches sessions revoked
// since the JWT was minted. A JWT the feed reported revoked fails with
// ErrRevoked without asking the edge. An opaque token always goes to the
// edge.
//
// freshJWT is the JWT the edge minted, to hand back to the client (for
// example in the stytch_session_jwt cookie); it is empty when the JWT was
// accepted locally.
//
// Calls to the edge are bounded: concurrent calls with the same token
// share one, a session_not_found answer is remembered for 30 seconds, and
// at most Config.MaxConcurrentFallbacks are in flight (beyond that a call
// waits up to 5 seconds, then fails with ErrBusy). The Session is the
// caller's own to change.
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
		errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrKeysUnavailable) ||
		errors.Is(err, ErrFeedStale)
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

// remote asks the edge about token, through the coalescing, remembering
// and bounding of fallbacks.
func (v *Verifier) remote(ctx context.Context, field, token string) (*Session, string, error) {
	if v.cfg.secret == "" {
		return nil, "", ErrNoSecret
	}
	return v.fallbacks.do(ctx, sha256.Sum256([]byte(token)), v.cfg.now, func(ctx context.Context) (*Session, string, error) {
		return v.call(ctx, field, token)
	})
}

// call makes one POST /v1/sessions/authenticate.
func (v *Verifier) call(ctx context.Context, field, token string) (*Session, string, error) {
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
		re, ok := readRemoteError(string(data))
		if !ok || re.StatusCode != resp.StatusCode {
			re = &RemoteError{StatusCode: resp.StatusCode, ErrorType: "unexpected_response"}
		}
		return nil, "", re
	}
	s, fresh, ok := readAuthenticateResponse(string(data))
	if !ok {
		return nil, "", fmt.Errorf("%w: response is not a JSON object of the expected shape", ErrUnavailable)
	}
	if s == nil || s.SessionID == "" || s.UserID == "" {
		return nil, "", fmt.Errorf("%w: response without a session", ErrUnavailable)
	}
	return s, fresh, nil
}

// The edge's answers are read with the same scanner as the JWT, not with
// encoding/json, which matches member names case-insensitively
// ({"SESSION": …} would fill Session) and takes the last of repeated
// members. Names here are exact and a repeated name fails the decode.

// readAuthenticateResponse reads the session and session_jwt of the
// edge's 200 answer to POST /v1/sessions/authenticate. ok is false when
// the body is not a JSON object of the expected shape; session is nil
// when it holds none.
func readAuthenticateResponse(body string) (session *Session, jwt string, ok bool) {
	sc := scanner{s: body, bigNumbers: true}
	var seen names
	sc.expect('{')
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "session":
			if !sc.null() {
				session = &Session{}
				sc.readRemoteSession(session)
			}
		case "session_jwt":
			jwt = sc.optStr()
		default:
			sc.skipValue(0)
		}
	}
	sc.end()
	if sc.bad {
		return nil, "", false
	}
	return session, jwt, true
}

// readRemoteSession reads the session object of the edge's API answers.
func (sc *scanner) readRemoteSession(s *Session) {
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "session_id":
			s.SessionID = sc.optStr()
		case "user_id":
			s.UserID = sc.optStr()
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
		case "custom_claims":
			sc.readRemoteCustomClaims(s)
		default:
			sc.skipValue(0)
		}
	}
}

// readRemoteCustomClaims reads the session's custom_claims object. The
// edge has vouched for the session, so a number beyond float64 in a
// claim (which Latch no longer mints, but an older session may hold) is
// kept as its json.Number text instead of failing the whole answer; see
// RATIONALE.md, "Why does Authenticate keep a number Verify refuses?".
func (sc *scanner) readRemoteCustomClaims(s *Session) {
	if sc.null() {
		return
	}
	sc.expect('{')
	var seen names
	for first := true; sc.more('}', &first); {
		k := sc.key(&seen)
		raw := sc.skip()
		if sc.bad {
			return
		}
		val, err := decodeRemoteClaim(raw)
		if err != nil {
			sc.fail()
			return
		}
		if s.CustomClaims == nil {
			s.CustomClaims = make(map[string]any)
		}
		s.CustomClaims[k] = val
	}
}

// readRemoteError reads the Stytch-shaped error body of a failed call.
func readRemoteError(body string) (*RemoteError, bool) {
	sc := scanner{s: body, bigNumbers: true}
	re := &RemoteError{}
	var seen names
	sc.expect('{')
	for first := true; sc.more('}', &first); {
		switch sc.key(&seen) {
		case "status_code":
			n, err := strconv.Atoi(sc.number())
			if err != nil {
				sc.fail()
			}
			re.StatusCode = n
		case "request_id":
			re.RequestID = sc.optStr()
		case "error_type":
			re.ErrorType = sc.optStr()
		case "error_message":
			re.ErrorMessage = sc.optStr()
		default:
			sc.skipValue(0)
		}
	}
	sc.end()
	return re, !sc.bad
}
