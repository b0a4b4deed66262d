package testharness_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/verifier"
)

// TestMiddlewareErrorHandler runs Middleware against the real engine:
// Config.ErrorHandler gets each request turned away with Authenticate's
// error, and never a request with a live session; without one the answer
// stays the JSON 401.
func TestMiddlewareErrorHandler(t *testing.T) {
	srv := testharness.Start(t)
	_, live, _ := login(t, srv)
	revokedID, revoked, _ := login(t, srv)
	edgeCall(t, srv, "/v1/sessions/revoke", map[string]any{"session_id": revokedID})
	tests := []struct {
		name       string
		cookie     string // the stytch_session cookie; none when empty
		handler    bool   // Config.ErrorHandler is set
		wantErr    error  // what the handler gets; nil: it is not called
		wantStatus int
		wantType   string // error_type of the default JSON answer
	}{
		{name: "no token", handler: true, wantErr: verifier.ErrNoToken, wantStatus: http.StatusSeeOther},
		{name: "revoked session", cookie: revoked, handler: true, wantErr: verifier.ErrSessionNotFound, wantStatus: http.StatusSeeOther},
		{name: "live session", cookie: live, handler: true, wantStatus: http.StatusOK},
		{name: "no token, default", wantStatus: http.StatusUnauthorized, wantType: "unauthorized"},
		{name: "revoked session, default", cookie: revoked, wantStatus: http.StatusUnauthorized, wantType: "session_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotReq *http.Request
			var gotErr error
			calls := 0
			v := harnessVerifier(t, srv, func(c *verifier.Config) {
				c.DisableRevocationFeed = true
				if tt.handler {
					c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
						calls++
						gotReq, gotErr = r, err
						http.Redirect(w, r, "/login", http.StatusSeeOther)
					}
				}
			})
			nextRan := false
			h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { nextRan = true }))
			req := httptest.NewRequest(http.MethodGet, "/account?tab=1", nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "stytch_session", Value: tt.cookie})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus || nextRan != (tt.wantStatus == http.StatusOK) {
				t.Fatalf("status = %d, next ran %v; want %d; body %s", rec.Code, nextRan, tt.wantStatus, rec.Body)
			}
			if tt.wantErr == nil {
				if calls != 0 {
					t.Fatalf("ErrorHandler called %d times with %v", calls, gotErr)
				}
			} else if calls != 1 || gotReq != req || !errors.Is(gotErr, tt.wantErr) {
				t.Fatalf("ErrorHandler called %d times with %p (request %p), %v; want %v", calls, gotReq, req, gotErr, tt.wantErr)
			}
			if tt.wantType == "" {
				return
			}
			var body struct {
				StatusCode int    `json:"status_code"`
				ErrorType  string `json:"error_type"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if body.StatusCode != tt.wantStatus || body.ErrorType != tt.wantType ||
				rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatalf("body = %+v, headers %v", body, rec.Header())
			}
		})
	}
}
