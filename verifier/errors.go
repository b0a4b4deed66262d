package verifier

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the Verifier returns wraps one of these (with
// context added by %w), so callers match them with errors.Is. They are the
// verifier's own and wrap no other package's errors (golang-jwt's
// jwt.ErrTokenExpired does not match ErrExpired). Two are related on
// purpose: ErrRevoked matches ErrSessionNotFound, and ErrBusy matches
// ErrUnavailable. See RATIONALE.md, "Why are the verifier's errors its
// own?".
var (
	// ErrMalformed: the token is not a well-formed compact JWS with the
	// claims a Latch session JWT carries.
	ErrMalformed = errors.New("verifier: malformed token")
	// ErrUnsupportedAlgorithm: the header names an algorithm other than
	// RS256 (including "none" and HS256), or a type other than JWT.
	ErrUnsupportedAlgorithm = errors.New("verifier: unsupported algorithm")
	// ErrUnknownKey: the kid is not in the JWKS, even after a refresh.
	ErrUnknownKey = errors.New("verifier: unknown key id")
	// ErrKeysUnavailable: no JWKS has been loaded yet and fetching it failed
	// or took longer than the bounded wait.
	ErrKeysUnavailable = errors.New("verifier: signing keys unavailable")
	// ErrInvalidSignature: the RS256 signature does not match the key.
	ErrInvalidSignature = errors.New("verifier: invalid signature")
	// ErrInvalidIssuer: iss is not stytch.com/<project_id> (or the base URL
	// when Config.AcceptBaseURLIssuer is set).
	ErrInvalidIssuer = errors.New("verifier: invalid issuer")
	// ErrInvalidAudience: aud does not contain the project id.
	ErrInvalidAudience = errors.New("verifier: invalid audience")
	// ErrExpired: exp has passed (beyond the leeway).
	ErrExpired = errors.New("verifier: token expired")
	// ErrNotYetValid: nbf or iat lies in the future (beyond the leeway).
	ErrNotYetValid = errors.New("verifier: token not valid yet")
	// ErrTooOld: the token was issued longer than Config.MaxTokenAge ago.
	ErrTooOld = errors.New("verifier: token too old")
	// ErrSessionNotFound: the edge says the session is unknown, revoked or
	// expired (404 session_not_found), or the revocation feed said it was
	// revoked (ErrRevoked).
	ErrSessionNotFound = errors.New("verifier: session not found")
	// ErrRevoked: the revocation feed reported the token's session as
	// ended early (revoked, its user deleted, its password reset), or, for
	// an M2M access token, its client as deactivated, deleted or given a
	// new secret after the token was issued. It is final: Authenticate
	// does not ask the edge. It matches ErrSessionNotFound too, as the
	// edge's answer for the same session.
	ErrRevoked = fmt.Errorf("verifier: session revoked: %w", ErrSessionNotFound)
	// ErrFeedStale: the token verified, but the revocation feed cannot
	// vouch that its session (or, for an M2M access token, its client) was
	// not revoked: the feed has not answered for longer than its bound (or
	// has not answered yet, or the Verifier is closed), or it was reset
	// after the token was issued. Authenticate and Middleware ask the edge
	// instead; M2MMiddleware answers 503. See verifier/README.md,
	// "Revocation".
	ErrFeedStale = errors.New("verifier: revocation feed stale")
	// ErrRemote: the edge answered the fallback call with another error;
	// the returned error is a *RemoteError carrying its details.
	ErrRemote = errors.New("verifier: edge rejected the session")
	// ErrUnavailable: the edge could not be reached or answered with a
	// server error, so no decision about the session was made.
	ErrUnavailable = errors.New("verifier: edge unavailable")
	// ErrBusy: Authenticate needed the edge, but
	// Config.MaxConcurrentFallbacks calls to it were already in flight and
	// none finished within a few seconds. It matches ErrUnavailable too:
	// no decision about the session was made.
	ErrBusy = fmt.Errorf("verifier: too many concurrent calls to the edge: %w", ErrUnavailable)
	// ErrNoSecret: Authenticate needed the edge but Config.Secret is empty.
	ErrNoSecret = errors.New("verifier: no project secret configured for the remote fallback")
	// ErrNoToken: the request carried no session cookie or bearer token.
	ErrNoToken = errors.New("verifier: no session token in request")
	// ErrConfig: Config failed validation in New.
	ErrConfig = errors.New("verifier: invalid config")
	// ErrNotM2M: VerifyM2M was given a token that verified but is not an
	// M2M access token: a session JWT (it carries the
	// https://stytch.com/session claim) or a token without a scope claim.
	// Verify, given an M2M access token, fails with ErrMalformed.
	ErrNotM2M = errors.New("verifier: not an M2M access token")
	// ErrInsufficientScope: the M2M access token verified but lacks one of
	// the scopes VerifyM2M was asked for. M2MMiddleware answers it with
	// 403 insufficient_scope.
	ErrInsufficientScope = errors.New("verifier: insufficient scope")
)

// RemoteError is the Stytch-shaped error body the edge returned for a
// fallback call. It matches ErrSessionNotFound for 404 session_not_found,
// ErrUnavailable for 5xx, and ErrRemote otherwise.
type RemoteError struct {
	StatusCode   int    `json:"status_code"`
	RequestID    string `json:"request_id"`
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("verifier: edge answered %d %s (request %s)", e.StatusCode, e.ErrorType, e.RequestID)
}

// Is reports whether e matches one of the remote sentinels.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrSessionNotFound:
		return e.StatusCode == 404 && e.ErrorType == "session_not_found"
	case ErrUnavailable:
		return e.StatusCode >= 500
	case ErrRemote:
		return !(e.StatusCode == 404 && e.ErrorType == "session_not_found") && e.StatusCode < 500
	}
	return false
}
