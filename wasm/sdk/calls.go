package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/latchauth/latch/wasm/internal/ratelimit"
	"github.com/latchauth/latch/wasm/memhttp"
)

// maxBody bounds an SDK call's body. The engine bounds its own at 1 MiB;
// nothing the SDK sends comes near this.
const maxBody = 64 << 10

// limit names the per-client count a call is taken from.
type limit int

const (
	noLimit    limit = iota
	mailLimit        // the call mails someone
	checkLimit       // the call checks a secret or tells of an account
)

// route is one SDK endpoint: a ServeMux pattern under /sdk/v1, the count
// it is taken from, whether it needs the caller's own session, and its
// handler, which returns the engine's answer to relay.
type route struct {
	pattern string
	limit   limit
	session bool // refused 401 without a session in the Basic password
	public  bool // no Basic credentials: the telemetry, and the bootstrap, whose path names the token
	fn      func(s *surface, c *call) (*answer, error)
}

func (s *surface) routes() []route {
	return []route{
		{pattern: "GET /sdk/v1/projects/bootstrap/{public_token}", public: true, fn: (*surface).bootstrap},
		{pattern: "POST /sdk/v1/events", public: true, fn: (*surface).events},

		{pattern: "POST /sdk/v1/otps/email/login_or_create", limit: mailLimit, fn: (*surface).otpLoginOrCreate},
		{pattern: "POST /sdk/v1/otps/email/send/primary", limit: mailLimit, fn: (*surface).otpSend},
		{pattern: "POST /sdk/v1/otps/email/send/secondary", limit: mailLimit, session: true, fn: (*surface).otpSend},
		{pattern: "POST /sdk/v1/otps/authenticate", limit: checkLimit, fn: (*surface).otpAuthenticate},

		{pattern: "POST /sdk/v1/magic_links/email/login_or_create", limit: mailLimit, fn: (*surface).linkLoginOrCreate},
		{pattern: "POST /sdk/v1/magic_links/email/send/primary", limit: mailLimit, fn: (*surface).linkSend},
		{pattern: "POST /sdk/v1/magic_links/email/send/secondary", limit: mailLimit, session: true, fn: (*surface).linkSend},
		{pattern: "POST /sdk/v1/magic_links/authenticate", limit: checkLimit, fn: (*surface).linkAuthenticate},

		{pattern: "POST /sdk/v1/passwords", limit: checkLimit, fn: (*surface).passwordCreate},
		{pattern: "POST /sdk/v1/passwords/authenticate", limit: checkLimit, fn: (*surface).passwordAuthenticate},
		{pattern: "POST /sdk/v1/passwords/strength_check", limit: checkLimit, fn: (*surface).passwordStrength},
		{pattern: "POST /sdk/v1/passwords/email/reset/start", limit: mailLimit, fn: (*surface).resetStart},
		{pattern: "POST /sdk/v1/passwords/email/reset", limit: checkLimit, fn: (*surface).resetByEmail},
		{pattern: "POST /sdk/v1/passwords/existing_password/reset", limit: checkLimit, fn: (*surface).resetExisting},
		{pattern: "POST /sdk/v1/passwords/session/reset", limit: checkLimit, session: true, fn: (*surface).resetSession},

		{pattern: "POST /sdk/v1/users/search", limit: checkLimit, fn: (*surface).userSearch},
		{pattern: "GET /sdk/v1/users/me", session: true, fn: (*surface).userGet},
		{pattern: "PUT /sdk/v1/users/me", session: true, fn: (*surface).userUpdate},

		{pattern: "POST /sdk/v1/totps", limit: checkLimit, session: true, fn: (*surface).totpCreate},
		{pattern: "POST /sdk/v1/totps/authenticate", limit: checkLimit, session: true, fn: (*surface).totpAuthenticate},
		{pattern: "POST /sdk/v1/totps/recover", limit: checkLimit, session: true, fn: (*surface).totpRecover},
		{pattern: "POST /sdk/v1/totps/recovery_codes", session: true, fn: (*surface).totpRecoveryCodes},

		{pattern: "POST /sdk/v1/oauth/authenticate", limit: checkLimit, fn: (*surface).oauthAuthenticate},
		{pattern: "POST /sdk/v1/oauth/attach", limit: checkLimit, session: true, fn: (*surface).oauthAttach},

		{pattern: "POST /sdk/v1/webauthn/register/start", limit: checkLimit, session: true, fn: (*surface).webauthnRegisterStart},
		{pattern: "POST /sdk/v1/webauthn/register", limit: checkLimit, session: true, fn: (*surface).webauthnRegister},
		{pattern: "POST /sdk/v1/webauthn/authenticate/start/primary", limit: checkLimit, fn: (*surface).webauthnStartPrimary},
		{pattern: "POST /sdk/v1/webauthn/authenticate/start/secondary", limit: checkLimit, session: true, fn: (*surface).webauthnStartSecondary},
		{pattern: "POST /sdk/v1/webauthn/authenticate", limit: checkLimit, fn: (*surface).webauthnAuthenticate},
		{pattern: "PUT /sdk/v1/webauthn/update/{webauthn_registration_id}", session: true, fn: (*surface).webauthnUpdate},

		{pattern: "POST /sdk/v1/sessions/authenticate", session: true, fn: (*surface).sessionAuthenticate},
		{pattern: "POST /sdk/v1/sessions/revoke", session: true, fn: (*surface).sessionRevoke},
	}
}

// call is one SDK call being served.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	who caller
}

// answer is what a call answers: the engine's status and body, and the
// success body's members as edited for the SDK (nil on an error).
type answer struct {
	status int
	raw    []byte
	data   map[string]any
}

// errBadBody answers a body that is not a JSON object of the expected
// members' types.
var errBadBody = errors.New("sdk: bad body")

// endpoint wraps a route's handler: credentials, the session when the
// route needs one, the per-client count, then the handler, its answer
// relayed in the SDK's envelope.
func (s *surface) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r}
		if !rt.public {
			who, ok := s.authenticate(r)
			if !ok {
				s.fail(w, http.StatusUnauthorized, "unauthorized_credentials", "The public token is missing or is not this project's.")
				return
			}
			c.who = who
		}
		if rt.session && c.who.session == "" {
			s.fail(w, http.StatusUnauthorized, "unauthorized_credentials", "This call needs a session.")
			return
		}
		if !s.allow(r, rt.limit) {
			s.fail(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests from this client; try again later.")
			return
		}
		a, err := rt.fn(s, c)
		switch {
		case errors.Is(err, errBadBody):
			s.fail(w, http.StatusBadRequest, "bad_request", "The request body must be a JSON object of the call's members.")
			return
		case err != nil:
			s.Logger.Error("sdk: call failed", "path", clip(r.URL.Path), "err", err)
			s.fail(w, http.StatusInternalServerError, "internal_server_error", "An unexpected error occurred.")
			return
		}
		if s.HTTPOnlyCookies {
			s.keepSession(w, r, c.who, a)
		}
		s.relay(w, a)
	})
}

// allow takes one call of the client from the count the route names, in
// Config.Limit when set and in the surface's own.
func (s *surface) allow(r *http.Request, l limit) bool {
	if l == noLimit {
		return true
	}
	key := ratelimit.ClientKey(s.ClientIP(r))
	if s.Limit != nil {
		ok, err := s.Limit(r.Context(), key)
		switch {
		case err != nil:
			s.Logger.Warn("sdk: rate limit unavailable; the surface's own count decides", "err", err)
		case !ok:
			return false
		}
	}
	lim := s.checks
	if l == mailLimit {
		lim = s.mails
	}
	ok, _ := lim.Allow(key, s.Now())
	return ok
}

// relay writes a: a success as {"data": …}, an error as the engine's own
// body, which carries status_code, error_type, error_message, error_url
// and request_id as the SDK reads them.
func (s *surface) relay(w http.ResponseWriter, a *answer) {
	w.Header().Set("Content-Type", "application/json")
	if a.status != http.StatusOK {
		w.WriteHeader(a.status)
		_, _ = w.Write(a.raw)
		return
	}
	// Trusted metadata is the backend's alone, whichever call relays a
	// user (forBrowser).
	for _, k := range []string{"user", "__user"} {
		if u, ok := a.data[k].(map[string]any); ok {
			u["trusted_metadata"] = map[string]any{}
		}
	}
	body, err := json.Marshal(map[string]any{"data": a.data})
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "internal_server_error", "An unexpected error occurred.")
		return
	}
	_, _ = w.Write(body)
}

// read decodes the call's body (an empty one reads as {}) into dst.
// Members dst does not name are ignored: the SDK adds some Latch has no use
// for (captcha_token, dfp_telemetry_id, template ids, locale).
func (c *call) read(dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if err != nil {
		return errBadBody
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' || json.Unmarshal(body, dst) != nil {
		return errBadBody
	}
	return nil
}

// api makes one engine call in process with the project credentials.
func (s *surface) api(ctx context.Context, method, path string, body any) (*answer, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	req, err := memhttp.NewRequest(ctx, method, path, h, raw, "")
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(s.ProjectID, s.Secret)
	rec := memhttp.NewRecorder()
	s.API.ServeHTTP(rec, req)
	status, _, res := rec.Result()
	a := &answer{status: status, raw: res}
	if status == http.StatusOK {
		if err := json.Unmarshal(res, &a.data); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// withSession adds the caller's session to an engine login's body, so
// that a signed-in caller's factor is added to its own session (a step-up),
// as Stytch's SDK does.
func (c *call) withSession(body map[string]any) map[string]any {
	if c.who.session != "" {
		body["session_token"] = c.who.session
	}
	return body
}

// forBrowser edits a success answer for the browser: the user it carries
// keeps its trusted metadata, which only the project's backend reads and
// writes, to itself, and is given again as __user, which the SDK reads.
func (a *answer) forBrowser() *answer {
	if a.status != http.StatusOK {
		return a
	}
	if u, ok := a.data["user"].(map[string]any); ok {
		u["trusted_metadata"] = map[string]any{}
		a.data["__user"] = u
	}
	return a
}

// bootstrap answers GET /sdk/v1/projects/bootstrap/{public_token}: the
// project's settings as the SDK reads them. Captcha, device
// fingerprinting and PKCE are off; the SDK shows no watermark.
func (s *surface) bootstrap(c *call) (*answer, error) {
	t := sha256.Sum256([]byte(c.r.PathValue("public_token")))
	if subtle.ConstantTimeCompare(t[:], s.token[:]) != 1 {
		return s.refusal(http.StatusNotFound, "public_token_not_found", "The public token is not this project's."), nil
	}
	return &answer{status: http.StatusOK, data: map[string]any{
		"status_code":                         http.StatusOK,
		"request_id":                          "request-id-" + s.env + "-" + uuid.NewString(),
		"project_name":                        s.ProjectName,
		"disable_sdk_watermark":               true,
		"cname_domain":                        nil,
		"email_domains":                       []string{},
		"captcha_settings":                    map[string]any{"enabled": false},
		"pkce_required_for_email_magic_links": false,
		"pkce_required_for_password_resets":   false,
		"pkce_required_for_oauth":             false,
		"pkce_required_for_sso":               false,
		"slug_pattern":                        nil,
		"create_organization_enabled":         false,
		"password_config":                     nil,
		"dfp_protected_auth_enabled":          false,
		"rbac_policy":                         map[string]any{"roles": []any{}, "resources": []any{}, "scopes": []any{}},
		"siwe_required_for_crypto_wallets":    false,
		"vertical":                            "CONSUMER",
	}}, nil
}

// events answers POST /sdk/v1/events, the SDK's telemetry: read (bounded)
// and dropped.
func (s *surface) events(c *call) (*answer, error) {
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(c.w, c.r.Body, maxBody))
	return &answer{status: http.StatusOK, data: map[string]any{"status_code": http.StatusOK}}, nil
}

// sessionBody is the session member every SDK login carries.
type sessionBody struct {
	SessionDurationMinutes *int `json:"session_duration_minutes"`
}

// into adds the duration, when given, to an engine body.
func (b sessionBody) into(body map[string]any) map[string]any {
	if b.SessionDurationMinutes != nil {
		body["session_duration_minutes"] = *b.SessionDurationMinutes
	}
	return body
}

// POST /sdk/v1/otps/email/login_or_create
func (s *surface) otpLoginOrCreate(c *call) (*answer, error) {
	var b struct {
		Email             string `json:"email"`
		ExpirationMinutes int    `json:"expiration_minutes"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, err := s.api(c.r.Context(), http.MethodPost, "/v1/otps/email/login_or_create",
		map[string]any{"email": b.Email, "expiration_minutes": b.ExpirationMinutes})
	return withMethodID(a), err
}

// POST /sdk/v1/otps/email/send/{primary,secondary}: secondary adds a
// factor to the caller's own session.
func (s *surface) otpSend(c *call) (*answer, error) {
	var b struct {
		Email             string `json:"email"`
		ExpirationMinutes int    `json:"expiration_minutes"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, err := s.api(c.r.Context(), http.MethodPost, "/v1/otps/email/send",
		c.withSession(map[string]any{"email": b.Email, "expiration_minutes": b.ExpirationMinutes}))
	return withMethodID(a), err
}

// withMethodID gives an OTP send's email_id again as method_id, which the
// SDK and its prebuilt UI read.
func withMethodID(a *answer) *answer {
	if a != nil && a.status == http.StatusOK {
		a.data["method_id"] = a.data["email_id"]
	}
	return a
}

// POST /sdk/v1/otps/authenticate: the SDK names the code token.
func (s *surface) otpAuthenticate(c *call) (*answer, error) {
	var b struct {
		Token    string `json:"token"`
		MethodID string `json:"method_id"`
		sessionBody
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, err := s.api(c.r.Context(), http.MethodPost, "/v1/otps/authenticate",
		c.withSession(b.into(map[string]any{"method_id": b.MethodID, "code": b.Token})))
	return loginAnswer(a, err)
}

// loginAnswer edits a login's answer for the browser.
func loginAnswer(a *answer, err error) (*answer, error) {
	if err != nil {
		return nil, err
	}
	return a.forBrowser(), nil
}

// linkArgs are the members of an SDK magic link send.
type linkArgs struct {
	Email                   string `json:"email"`
	LoginMagicLinkURL       string `json:"login_magic_link_url"`
	SignupMagicLinkURL      string `json:"signup_magic_link_url"`
	LoginExpirationMinutes  int    `json:"login_expiration_minutes"`
	SignupExpirationMinutes int    `json:"signup_expiration_minutes"`
	CodeChallenge           string `json:"code_challenge"`
}

func (b *linkArgs) body() map[string]any {
	m := map[string]any{"email": b.Email, "login_magic_link_url": b.LoginMagicLinkURL,
		"login_expiration_minutes": b.LoginExpirationMinutes, "code_challenge": b.CodeChallenge}
	if b.SignupMagicLinkURL != "" || b.SignupExpirationMinutes != 0 {
		m["signup_magic_link_url"] = b.SignupMagicLinkURL
		m["signup_expiration_minutes"] = b.SignupExpirationMinutes
	}
	return m
}

// POST /sdk/v1/magic_links/email/login_or_create
func (s *surface) linkLoginOrCreate(c *call) (*answer, error) {
	var b linkArgs
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/magic_links/email/login_or_create", b.body())
}

// POST /sdk/v1/magic_links/email/send/{primary,secondary}
func (s *surface) linkSend(c *call) (*answer, error) {
	var b linkArgs
	if err := c.read(&b); err != nil {
		return nil, err
	}
	body := b.body()
	delete(body, "signup_magic_link_url")
	delete(body, "signup_expiration_minutes")
	return s.api(c.r.Context(), http.MethodPost, "/v1/magic_links/email/send", c.withSession(body))
}

// POST /sdk/v1/magic_links/authenticate
func (s *surface) linkAuthenticate(c *call) (*answer, error) {
	return s.tokenLogin(c, "/v1/magic_links/authenticate")
}

// POST /sdk/v1/oauth/authenticate: the token the engine's callback put in
// the app's URL (the SDK's oauth.{provider}.start goes to the engine's
// public start URL, which needs no surface of its own).
func (s *surface) oauthAuthenticate(c *call) (*answer, error) {
	return s.tokenLogin(c, "/v1/oauth/authenticate")
}

// tokenLogin is a login by a token the engine issued (a mailed link's, an
// OAuth callback's) at the API's path, with the PKCE verifier of the SDK's
// start when it sent a challenge.
func (s *surface) tokenLogin(c *call, path string) (*answer, error) {
	var b struct {
		Token        string `json:"token"`
		CodeVerifier string `json:"code_verifier"`
		sessionBody
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	body := b.into(map[string]any{"token": b.Token})
	if b.CodeVerifier != "" {
		body["code_verifier"] = b.CodeVerifier
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, path, c.withSession(body)))
}

// POST /sdk/v1/oauth/attach: a token that lets a start add the provider to
// the caller's own user.
func (s *surface) oauthAttach(c *call) (*answer, error) {
	var b struct {
		Provider string `json:"provider"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	if a, _, err := s.freshCaller(c, "a provider"); err != nil || a != nil {
		return a, err
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/oauth/attach",
		map[string]any{"provider": b.Provider, "session_token": c.who.session})
}

// emailPassword are the members of a password sign-up or login.
type emailPassword struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	sessionBody
}

// POST /sdk/v1/passwords: a new user with a password.
func (s *surface) passwordCreate(c *call) (*answer, error) {
	var b emailPassword
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/passwords",
		b.into(map[string]any{"email": b.Email, "password": b.Password})))
}

// POST /sdk/v1/passwords/authenticate
func (s *surface) passwordAuthenticate(c *call) (*answer, error) {
	var b emailPassword
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/passwords/authenticate",
		c.withSession(b.into(map[string]any{"email": b.Email, "password": b.Password}))))
}

// POST /sdk/v1/passwords/strength_check
func (s *surface) passwordStrength(c *call) (*answer, error) {
	var b emailPassword
	if err := c.read(&b); err != nil {
		return nil, err
	}
	body := map[string]any{"password": b.Password}
	if b.Email != "" {
		body["email"] = b.Email
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/passwords/strength_check", body)
}

// POST /sdk/v1/passwords/email/reset/start
func (s *surface) resetStart(c *call) (*answer, error) {
	var b struct {
		Email                          string `json:"email"`
		ResetPasswordRedirectURL       string `json:"reset_password_redirect_url"`
		ResetPasswordExpirationMinutes int    `json:"reset_password_expiration_minutes"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/passwords/email/reset/start", map[string]any{
		"email": b.Email, "reset_password_redirect_url": b.ResetPasswordRedirectURL,
		"reset_password_expiration_minutes": b.ResetPasswordExpirationMinutes})
}

// POST /sdk/v1/passwords/email/reset
func (s *surface) resetByEmail(c *call) (*answer, error) {
	var b struct {
		Token    string `json:"token"`
		Password string `json:"password"`
		sessionBody
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/passwords/email/reset",
		c.withSession(b.into(map[string]any{"token": b.Token, "password": b.Password}))))
}

// POST /sdk/v1/passwords/existing_password/reset
func (s *surface) resetExisting(c *call) (*answer, error) {
	var b struct {
		Email            string `json:"email"`
		ExistingPassword string `json:"existing_password"`
		NewPassword      string `json:"new_password"`
		sessionBody
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/passwords/existing_password/reset",
		b.into(map[string]any{"email": b.Email, "existing_password": b.ExistingPassword, "new_password": b.NewPassword})))
}

// POST /sdk/v1/passwords/session/reset: a new password for the caller's
// own user, its session kept.
func (s *surface) resetSession(c *call) (*answer, error) {
	var b struct {
		Password string `json:"password"`
		sessionBody
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/passwords/session/reset",
		c.withSession(b.into(map[string]any{"password": b.Password}))))
}

// POST /sdk/v1/users/search: the prebuilt UI's question of which screen
// to show for an address, answered with the user's type alone: "new" (no
// user), "password" or "passwordless". Nothing else of the user is told.
func (s *surface) userSearch(c *call) (*answer, error) {
	var b struct {
		Email string `json:"email"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, err := s.api(c.r.Context(), http.MethodPost, "/v1/users/search", map[string]any{
		"limit": 1,
		"query": map[string]any{"operator": "AND", "operands": []any{
			map[string]any{"filter_name": "email_address", "filter_value": []string{b.Email}},
		}},
	})
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	kind := "new"
	if results, _ := a.data["results"].([]any); len(results) > 0 {
		kind = "passwordless"
		if u, _ := results[0].(map[string]any); u["password"] != nil {
			kind = "password"
		}
	}
	return &answer{status: http.StatusOK, data: map[string]any{
		"status_code": http.StatusOK, "request_id": a.data["request_id"], "userType": kind}}, nil
}

// callerSession authenticates the caller's own session with the engine,
// leaving its lifetime as it is.
func (s *surface) callerSession(c *call) (*answer, error) {
	a, err := s.api(c.r.Context(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_token": c.who.session})
	if err != nil {
		return nil, err
	}
	return a.forBrowser(), nil
}

// GET /sdk/v1/users/me: the caller's own user, its members at the top of
// data.
func (s *surface) userGet(c *call) (*answer, error) {
	a, err := s.callerSession(c)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	u, _ := a.data["user"].(map[string]any)
	data := map[string]any{"status_code": http.StatusOK, "request_id": a.data["request_id"]}
	for k, v := range u {
		data[k] = v
	}
	return &answer{status: http.StatusOK, data: data}, nil
}

// PUT /sdk/v1/users/me: the caller's own name and untrusted metadata,
// nothing else of the user.
func (s *surface) userUpdate(c *call) (*answer, error) {
	var b struct {
		Name              json.RawMessage `json:"name"`
		UntrustedMetadata json.RawMessage `json:"untrusted_metadata"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, id, err := s.callerUser(c)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	body := map[string]any{}
	if len(b.Name) > 0 {
		body["name"] = b.Name
	}
	if len(b.UntrustedMetadata) > 0 {
		body["untrusted_metadata"] = b.UntrustedMetadata
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPut, "/v1/users/"+url.PathEscape(id), body))
}

// POST /sdk/v1/sessions/authenticate: the caller's own session, lengthened
// when the SDK gives a duration.
func (s *surface) sessionAuthenticate(c *call) (*answer, error) {
	var b sessionBody
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/sessions/authenticate",
		b.into(map[string]any{"session_token": c.who.session})))
}

// POST /sdk/v1/sessions/revoke: the caller's own session ends, and the
// revocation feed carries it to every verifier.
func (s *surface) sessionRevoke(c *call) (*answer, error) {
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(c.w, c.r.Body, maxBody))
	return s.api(c.r.Context(), http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_token": c.who.session})
}

// callerUser authenticates the caller's own session and returns its
// answer (edited for the browser) and its user's id; an answer other than
// 200 is the caller's to relay.
func (s *surface) callerUser(c *call) (*answer, string, error) {
	a, err := s.callerSession(c)
	if err != nil || a.status != http.StatusOK {
		return a, "", err
	}
	u, _ := a.data["user"].(map[string]any)
	id, _ := u["user_id"].(string)
	return a, id, nil
}

// POST /sdk/v1/totps: an authenticator app for the caller's own user
// (refused by the engine when the user has a verified one already).
func (s *surface) totpCreate(c *call) (*answer, error) {
	var b struct {
		ExpirationMinutes int `json:"expiration_minutes"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	refused, id, err := s.freshCaller(c, "an authenticator app")
	if err != nil || refused != nil {
		return refused, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/totps", map[string]any{"user_id": id, "expiration_minutes": b.ExpirationMinutes}))
}

// POST /sdk/v1/totps/authenticate: the app's code, added to the caller's
// own session.
func (s *surface) totpAuthenticate(c *call) (*answer, error) {
	return s.totpLogin(c, "/v1/totps/authenticate", "totp_code")
}

// POST /sdk/v1/totps/recover: a recovery code instead of the app's, added
// to the caller's own session.
func (s *surface) totpRecover(c *call) (*answer, error) {
	return s.totpLogin(c, "/v1/totps/recover", "recovery_code")
}

// totpLogin adds a second factor to the caller's own session: the code the
// body names by member (totp_code or recovery_code), checked by the
// engine's endpoint path for the caller's user.
func (s *surface) totpLogin(c *call, path, member string) (*answer, error) {
	var b struct {
		TOTPCode     string `json:"totp_code"`
		RecoveryCode string `json:"recovery_code"`
		sessionBody
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, id, err := s.callerUser(c)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	code := b.TOTPCode
	if member == "recovery_code" {
		code = b.RecoveryCode
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, path,
		c.withSession(b.into(map[string]any{"user_id": id, member: code}))))
}

// POST /sdk/v1/totps/recovery_codes: the caller's unused recovery codes,
// only to a session that has itself passed the authenticator app (or a
// recovery code): a session of one factor, stolen or left open, must not
// read the way past the second.
func (s *surface) totpRecoveryCodes(c *call) (*answer, error) {
	a, id, err := s.callerUser(c)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	if !hasSecondFactor(a.data["session"]) {
		return s.refusal(http.StatusForbidden, "unauthorized_action",
			"Reading recovery codes needs a session that has passed the authenticator app."), nil
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/totps/recovery_codes", map[string]any{"user_id": id})
}

// hasSecondFactor reports whether a session view lists an authenticator
// app or recovery code factor.
func hasSecondFactor(session any) bool {
	sv, _ := session.(map[string]any)
	factors, _ := sv["authentication_factors"].([]any)
	for _, f := range factors {
		if m, _ := f.(map[string]any); m["type"] == "totp" || m["type"] == "recovery_codes" {
			return true
		}
	}
	return false
}

// refusal is an answer the surface makes itself, in the engine's error
// shape.
func (s *surface) refusal(status int, errorType, message string) *answer {
	rec := memhttp.NewRecorder()
	s.fail(rec, status, errorType, message)
	_, _, body := rec.Result()
	return &answer{status: status, raw: body}
}
