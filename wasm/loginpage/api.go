package loginpage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/latchauth/latch/wasm/memhttp"
)

// apiError is an answer of the API other than 200: its status and Stytch
// error_type. The page maps it to a message of its own (see messageFor);
// the API's error_message is never shown.
type apiError struct {
	Status int
	Type   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("loginpage: API answered %d %s", e.Status, e.Type)
}

// isAPIError reports whether err is the API's answer of error type typ.
func isAPIError(err error, typ string) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Type == typ
}

// login is what the page needs from a login endpoint's answer. A first
// factor called with require_mfa (firstFactor) for a user with an
// authenticator app starts no session: Session is null, the tokens empty,
// and IntermediateSessionToken, which sessions/authenticate and the
// verifier refuse, names the login held until its second factor
// (totps/authenticate or totps/recover).
type login struct {
	SessionToken             string `json:"session_token"`
	SessionJWT               string `json:"session_jwt"`
	IntermediateSessionToken string `json:"intermediate_session_token"`
	Session                  struct {
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"session"`
	// EmailID is the method_id of otps/email/login_or_create.
	EmailID string `json:"email_id"`
}

// firstFactor adds to args, the body of a first-factor call, what every
// one carries: the client's details, the configured session duration, and
// require_mfa, so that the API itself holds back the session of a user
// with an authenticator app until the app's code is checked. See
// RATIONALE.md, "How does the page hold a sign-in between its factors?".
func (p *page) firstFactor(r *http.Request, args map[string]any) map[string]any {
	args["require_mfa"] = true
	args["session_duration_minutes"] = p.SessionDurationMinutes
	args["attributes"] = p.attributesOf(r)
	return args
}

// attrs are the client details recorded on the sessions the page starts.
type attrs struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

// Bounds the API sets on attributes (wasm/engine attributes.validate).
const (
	maxUserAgent = 1024
	maxIP        = 64
)

// attributesOf returns r's client details, clipped and cleaned to what
// the API accepts.
func (p *page) attributesOf(r *http.Request) *attrs {
	return &attrs{IPAddress: clean(p.ClientIP(r), maxIP), UserAgent: clean(r.UserAgent(), maxUserAgent)}
}

// clean drops control characters and invalid UTF-8 from v and clips it
// to max bytes on a rune boundary.
func clean(v string, max int) string {
	out := make([]rune, 0, len(v))
	n := 0
	for _, c := range v {
		if c < ' ' || c == 0x7f || c == '\uFFFD' || (c >= 0x80 && c < 0xa0) {
			continue
		}
		if n += len(string(c)); n > max {
			break
		}
		out = append(out, c)
	}
	return string(out)
}

// call makes one API request in process: body encoded as JSON, the answer
// decoded into out (when not nil).
func (p *page) call(ctx context.Context, method, path string, body any, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("loginpage: encode %s: %w", path, err)
		}
	}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	req, err := memhttp.NewRequest(ctx, method, path, h, raw, "")
	if err != nil {
		return err
	}
	req.SetBasicAuth(p.ProjectID, p.Secret)
	rec := memhttp.NewRecorder()
	p.API.ServeHTTP(rec, req)
	status, _, res := rec.Result()
	if status != http.StatusOK {
		var e struct {
			Type string `json:"error_type"`
		}
		_ = json.Unmarshal(res, &e)
		return &apiError{Status: status, Type: e.Type}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("loginpage: decode %s: %w", path, err)
	}
	return nil
}
