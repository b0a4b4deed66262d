package engine

import (
	"errors"
	"fmt"
	"net/http"
)

// apiError is an error the API reports to the client in Stytch's shape.
// Its message never carries a secret or a token.
type apiError struct {
	status  int
	typ     string
	message string
}

func (e *apiError) Error() string { return "engine: " + e.typ + ": " + e.message }

func newError(status int, typ, format string, args ...any) *apiError {
	return &apiError{status: status, typ: typ, message: fmt.Sprintf(format, args...)}
}

// The errors of API.md, by situation.
var (
	errUnauthorized        = newError(http.StatusUnauthorized, "unauthorized_credentials", "Unauthorized credentials.")
	errWrongPassword       = newError(http.StatusUnauthorized, "unauthorized_credentials", "The email or password is incorrect.")
	errSessionNotFound     = newError(http.StatusNotFound, "session_not_found", "Session could not be found.")
	errTooManySessionArgs  = newError(http.StatusBadRequest, "too_many_session_arguments", "Provide only one of session_token or session_jwt.")
	errNoSessionArgs       = newError(http.StatusBadRequest, "no_session_arguments", "Provide one of session_token or session_jwt.")
	errNoRevokeArgs        = newError(http.StatusBadRequest, "no_session_revoke_arguments", "Provide one of session_id, session_token or session_jwt.")
	errTooManyRevokeArgs   = newError(http.StatusBadRequest, "too_many_session_revoke_arguments", "Provide only one of session_id, session_token or session_jwt.")
	errSessionDuration     = newError(http.StatusBadRequest, "invalid_session_duration_minutes", "session_duration_minutes must be between %d and %d.", minSessionMinutes, maxSessionMinutes)
	errClaimsTooLarge      = newError(http.StatusBadRequest, "custom_claims_too_large", "session_custom_claims must serialise to at most %d bytes.", maxCustomClaimsBytes)
	errReservedClaims      = newError(http.StatusBadRequest, "reserved_claims_in_custom_claims", "session_custom_claims may not use the registered JWT claims iss, sub, aud, exp, nbf, iat or jti.")
	errStytchClaims        = newError(http.StatusBadRequest, "stytch_claims_in_custom_claims", "session_custom_claims may not use names under https://stytch.com/.")
	errInvalidSessionID    = newError(http.StatusBadRequest, "invalid_session_id", "session_id is malformed.")
	errInvalidSessionToken = newError(http.StatusBadRequest, "invalid_session_token", "session_token is malformed.")
	errInvalidSessionJWT   = newError(http.StatusBadRequest, "invalid_session_jwt", "session_jwt is malformed.")
	errMagicLinkUsed       = newError(http.StatusUnauthorized, "unable_to_auth_magic_link", "The magic link could not be authenticated: it was already used or has expired.")
	errMagicLinkNotFound   = newError(http.StatusNotFound, "magic_link_not_found", "The magic link could not be found.")
	errExpirationMinutes   = newError(http.StatusBadRequest, "invalid_expiration_minutes", "expiration_minutes must be between %d and %d.", minMagicLinkMinutes, maxMagicLinkMinutes)
	errUserNotFound        = newError(http.StatusNotFound, "user_not_found", "User could not be found.")
	errInvalidUserID       = newError(http.StatusBadRequest, "invalid_user_id", "user_id is malformed.")
	errInvalidEmail        = newError(http.StatusBadRequest, "invalid_email", "email is malformed.")
	errEmailNotFound       = newError(http.StatusNotFound, "email_not_found", "No user has this email.")
	errDuplicateEmail      = newError(http.StatusBadRequest, "duplicate_email", "A user with this email already exists.")
	errUserLocked          = newError(http.StatusTooManyRequests, "user_lock_limit_reached", "Too many failed password attempts for this user; try again later.")
	errSessionUserMismatch = newError(http.StatusBadRequest, "session_user_mismatch", "The session belongs to a different user.")
	errProjectNotFound     = newError(http.StatusNotFound, "project_not_found", "Project could not be found.")
	errNotFound            = newError(http.StatusNotFound, "not_found", "No such endpoint.")
	errMethodNotAllowed    = newError(http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed on this endpoint.")
	errTooLarge            = newError(http.StatusRequestEntityTooLarge, "request_too_large", "Request body exceeds %d bytes.", maxBodyBytes)
	errInternal            = newError(http.StatusInternalServerError, "internal_server_error", "An unexpected error occurred.")
	errMailUnavailable     = newError(http.StatusServiceUnavailable, "email_delivery_unavailable", "This Latch has no mail transport configured.")
	errMailFailed          = newError(http.StatusBadGateway, "email_delivery_failed", "The email could not be delivered; nothing was sent. Try again.")
	errInvalidRedirectURL  = newError(http.StatusBadRequest, "invalid_redirect_url", "The redirect URL is not on the project's list of redirect URLs.")
	errNoRedirectURL       = newError(http.StatusBadRequest, "invalid_redirect_url", "No redirect URL was given and the project has none configured.")
	errTooManyRequests     = newError(http.StatusTooManyRequests, "too_many_requests", "Too many emails were sent to this address; try again later.")
	errOTPExpiration       = newError(http.StatusBadRequest, "invalid_expiration_minutes", "expiration_minutes must be between %d and %d.", minOTPMinutes, maxOTPMinutes)
	errInvalidMethodID     = newError(http.StatusBadRequest, "invalid_method_id", "method_id is malformed.")
	errInvalidCode         = newError(http.StatusBadRequest, "invalid_code", "code must be 6 digits.")
	errOTPNotFound         = newError(http.StatusNotFound, "otp_code_not_found", "The code could not be found: it was never sent, was used or has expired.")
	errOTPWrong            = newError(http.StatusUnauthorized, "unable_to_auth_otp_code", "The code is incorrect, or too many wrong codes were tried.")
	errResetNotFound       = newError(http.StatusNotFound, "reset_token_not_found", "The password reset link could not be found.")
	errResetUsed           = newError(http.StatusUnauthorized, "unable_to_reset_password", "The password reset link was already used or has expired.")
	errCredentialsChanged  = newError(http.StatusConflict, "credentials_changed", "The user's credentials changed while this request ran (a password was reset, or the email first verified); it started no session. Try again.")
	errPKCEMismatch        = newError(http.StatusBadRequest, "pkce_mismatch", "The code_verifier does not match the code_challenge the magic link was sent with.")
	errResetPKCE           = newError(http.StatusBadRequest, "pkce_mismatch", "The code_verifier does not match the code_challenge the password reset link was sent with.")
)

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "bad_request", format, args...)
}

func weakPassword(msg string) *apiError {
	return newError(http.StatusBadRequest, "weak_password", "%s", msg)
}

// errConflict reports that a conditional write lost a race; callers retry.
var errConflict = errors.New("engine: concurrent update")

// asAPIError maps err to what the client sees; anything unexpected becomes
// internal_server_error.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return errInternal
}
