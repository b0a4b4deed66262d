package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSessions answers POST /v1/sessions/authenticate the way the edge
// does, for sessions it holds, minting fresh JWTs with key.
type fakeSessions struct {
	t       *testing.T
	key     testKey
	clk     *clock
	mu      sync.Mutex
	revoked bool
	last    map[string]string // the last request body
}

func (f *fakeSessions) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != testProject || pass != "secret-test-x" {
		writeJSON(w, 401, map[string]any{"status_code": 401, "request_id": "request-id-test-1",
			"error_type": "unauthorized_credentials", "error_message": "bad credentials"})
		return
	}
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"status_code": 400, "error_type": "bad_request"})
		return
	}
	f.mu.Lock()
	f.last = body
	revoked := f.revoked
	f.mu.Unlock()
	if revoked {
		writeJSON(w, 404, map[string]any{"status_code": 404, "request_id": "request-id-test-2",
			"error_type": "session_not_found", "error_message": "session not found"})
		return
	}
	now := f.clk.Now()
	ts := now.UTC().Format(time.RFC3339)
	writeJSON(w, 200, map[string]any{
		"status_code": 200, "request_id": "request-id-test-3",
		"session": map[string]any{
			"session_id": "session-test-fe6c042b-6286-479f-8a4a-b4a21ac72e5f",
			"user_id":    "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd",
			"started_at": ts, "last_accessed_at": ts, "expires_at": now.Add(time.Hour).UTC().Format(time.RFC3339),
			"attributes": map[string]any{"ip_address": "", "user_agent": ""},
			"authentication_factors": []any{map[string]any{
				"type": "magic_link", "delivery_method": "embedded", "created_at": ts, "updated_at": ts,
				"last_authenticated_at": ts, "embeddable_magic_link_factor": map[string]any{"embedded_id": "user-test-x"},
			}},
			"custom_claims": map[string]any{"plan": "pro"},
			"roles":         []string{"stytch_user"},
		},
		"session_token": "opaque-token-not-used-here",
		"session_jwt":   mint(f.t, f.key, claimsAt(now)),
		"user":          map[string]any{"user_id": "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd"},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newEdge starts a fake edge serving the JWKS and sessions/authenticate.
func newEdge(t *testing.T, clk *clock) (*jwksServer, *fakeSessions) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	f := &fakeSessions{t: t, key: k, clk: clk}
	srv.authenticate = f.serve
	return srv, f
}

func TestAuthenticate(t *testing.T) {
	k := testKeys()[0]
	ctx := context.Background()
	t.Run("fresh JWT stays local", func(t *testing.T) {
		clk := newClock()
		srv, _ := newEdge(t, clk)
		v := newTestVerifier(t, srv, clk, nil)
		s, fresh, err := v.Authenticate(ctx, mint(t, k, claimsAt(clk.Now())))
		if err != nil || fresh != "" || s.SessionID == "" {
			t.Fatalf("= %v, %q, %v", s, fresh, err)
		}
		if n := srv.authCalls.Load(); n != 0 {
			t.Fatalf("%d edge calls, want 0", n)
		}
	})
	t.Run("expired JWT goes to the edge and comes back fresh", func(t *testing.T) {
		clk := newClock()
		srv, f := newEdge(t, clk)
		v := newTestVerifier(t, srv, clk, nil)
		old := mint(t, k, claimsAt(clk.Now().Add(-time.Hour)))
		s, fresh, err := v.Authenticate(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		if f.last["session_jwt"] != old || len(f.last) != 1 {
			t.Fatalf("edge got %v", f.last)
		}
		if s.UserID != "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd" || s.CustomClaims["plan"] != "pro" ||
			len(s.AuthenticationFactors) != 1 || s.AuthenticationFactors[0].EmbeddableMagicLinkFactor == nil ||
			!s.AuthenticationFactors[0].CreatedAt.Equal(clk.Now()) {
			t.Fatalf("session = %+v", s)
		}
		if fresh == "" {
			t.Fatal("no fresh JWT")
		}
		if _, err := v.Verify(ctx, fresh); err != nil {
			t.Fatalf("fresh JWT does not verify: %v", err)
		}
	})
	t.Run("opaque token goes to the edge", func(t *testing.T) {
		clk := newClock()
		srv, f := newEdge(t, clk)
		v := newTestVerifier(t, srv, clk, nil)
		_, fresh, err := v.Authenticate(ctx, "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q")
		if err != nil || fresh == "" {
			t.Fatalf("= %q, %v", fresh, err)
		}
		if f.last["session_token"] != "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q" {
			t.Fatalf("edge got %v", f.last)
		}
	})
	t.Run("revoked session: Verify cannot tell, Authenticate can", func(t *testing.T) {
		clk := newClock()
		srv, f := newEdge(t, clk)
		f.revoked = true
		local := newTestVerifier(t, srv, clk, nil)
		strict := newTestVerifier(t, srv, clk, func(c *Config) { c.MaxTokenAge = time.Minute })
		tok := mint(t, k, claimsAt(clk.Now().Add(-2*time.Minute)))
		// Documented: a JWT minted before the revocation verifies locally
		// until it expires.
		if _, err := local.Verify(ctx, tok); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// Past MaxTokenAge, Authenticate asks the edge, which knows.
		_, _, err := strict.Authenticate(ctx, tok)
		var re *RemoteError
		if !errors.Is(err, ErrSessionNotFound) || !errors.As(err, &re) || re.RequestID != "request-id-test-2" {
			t.Fatalf("err = %v, want ErrSessionNotFound from the edge", err)
		}
		// And so does any expired JWT of that session.
		_, _, err = local.Authenticate(ctx, mint(t, k, claimsAt(clk.Now().Add(-time.Hour))))
		if !errors.Is(err, ErrSessionNotFound) {
			t.Fatalf("expired: err = %v, want ErrSessionNotFound", err)
		}
	})
	t.Run("unknown kid goes to the edge", func(t *testing.T) {
		clk := newClock()
		srv, _ := newEdge(t, clk)
		v := newTestVerifier(t, srv, clk, nil)
		_, fresh, err := v.Authenticate(ctx, mint(t, withKID(testKeys()[1], "jwk-test-new"), claimsAt(clk.Now())))
		if err != nil || fresh == "" || srv.authCalls.Load() != 1 {
			t.Fatalf("= %q, %v after %d edge calls", fresh, err, srv.authCalls.Load())
		}
	})
	t.Run("bad signature never reaches the edge", func(t *testing.T) {
		clk := newClock()
		srv, _ := newEdge(t, clk)
		v := newTestVerifier(t, srv, clk, nil)
		forged := mint(t, withKID(testKeys()[1], k.KID), claimsAt(clk.Now().Add(-time.Hour)))
		if _, _, err := v.Authenticate(ctx, forged); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("err = %v, want ErrInvalidSignature", err)
		}
		if n := srv.authCalls.Load(); n != 0 {
			t.Fatalf("%d edge calls, want 0", n)
		}
	})
}

func TestAuthenticateErrors(t *testing.T) {
	k := testKeys()[0]
	ctx := context.Background()
	expired := func(clk *clock) string { return mint(t, k, claimsAt(clk.Now().Add(-time.Hour))) }
	tests := []struct {
		name    string
		secret  string
		edge    http.HandlerFunc // nil: the fake edge
		down    bool
		token   func(clk *clock) string
		wantErr []error
	}{
		{name: "wrong secret", secret: "wrong", token: expired, wantErr: []error{ErrRemote}},
		{name: "no secret, expired JWT", secret: "-", token: expired, wantErr: []error{ErrExpired}},
		{name: "no secret, opaque token", secret: "-", token: func(*clock) string { return "opaque" }, wantErr: []error{ErrNoSecret}},
		{name: "edge 500", token: expired, wantErr: []error{ErrUnavailable},
			edge: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 500, map[string]any{"status_code": 500, "error_type": "internal_server_error"})
			}},
		{name: "edge 500 without a body", token: expired, wantErr: []error{ErrUnavailable},
			edge: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }},
		{name: "edge answers garbage", token: expired, wantErr: []error{ErrUnavailable},
			edge: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{name: "edge answers 200 without a session", token: expired, wantErr: []error{ErrUnavailable},
			edge: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"status_code": 200}) }},
		{name: "edge down", token: expired, down: true, wantErr: []error{ErrUnavailable}},
		{name: "opaque token with a space", token: func(*clock) string { return "a b" }, wantErr: []error{ErrMalformed}},
		{name: "empty token", token: func(*clock) string { return "" }, wantErr: []error{ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, _ := newEdge(t, clk)
			if tt.edge != nil {
				srv.authenticate = tt.edge
			}
			v := newTestVerifier(t, srv, clk, func(c *Config) {
				switch tt.secret {
				case "":
				case "-":
					c.Secret = ""
				default:
					c.Secret = tt.secret
				}
			})
			if err := v.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.down {
				srv.Close()
			}
			s, fresh, err := v.Authenticate(ctx, tt.token(clk))
			if s != nil || fresh != "" {
				t.Fatalf("got a session with error %v", err)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
		})
	}
}

// TestAuthenticateNonFiniteClaim: a signed JWT whose custom claim is not
// a finite float64 is malformed, and Authenticate does not send it to the
// edge even when it has expired.
func TestAuthenticateNonFiniteClaim(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	srv, _ := newEdge(t, clk)
	v := newTestVerifier(t, srv, clk, nil)
	for _, iat := range []time.Time{clk.Now(), clk.Now().Add(-time.Hour)} {
		tok := mintRaw(t, k, withMembers(claimsJSON(t, iat), `"n":1e400`))
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Verify: err = %v, want ErrMalformed", err)
		}
		if s, fresh, err := v.Authenticate(t.Context(), tok); !errors.Is(err, ErrMalformed) || s != nil || fresh != "" {
			t.Fatalf("Authenticate = %v, %q, %v; want ErrMalformed", s, fresh, err)
		}
	}
	if n := srv.authCalls.Load(); n != 0 {
		t.Fatalf("%d edge calls, want 0", n)
	}
}

// TestAuthenticateEdgeAnswers feeds Authenticate crafted answers of the
// edge: names are exact, none may repeat, and a number beyond float64 in
// a custom claim the edge vouched for does not turn into an outage. (The
// engine refuses to mint such claims, so only a stub can send them.)
func TestAuthenticateEdgeAnswers(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	ts := clk.Now().UTC().Format(time.RFC3339)
	session := `{"session_id":"session-test-1","user_id":"user-test-1","started_at":"` + ts + `","last_accessed_at":"` + ts +
		`","expires_at":"` + ts + `","attributes":{"ip_address":"","user_agent":""},"authentication_factors":[],"roles":["stytch_user"],` +
		`"custom_claims":{"plan":"pro","n":3}}`
	body := func(sess string, more ...string) string {
		return withMembers(`{"status_code":200,"request_id":"request-id-test-3","session":`+sess+`,"session_jwt":"jwt-text"}`, more...)
	}
	tests := []struct {
		name       string
		status     int
		body       string
		wantErr    error
		wantClaims map[string]any
	}{
		{name: "plain", status: 200, body: body(session), wantClaims: map[string]any{"plan": "pro", "n": 3.0}},
		{name: "custom claim 1e400 kept as json.Number", status: 200,
			body:       body(withMembers(session[:strings.Index(session, `,"custom_claims"`)]+`}`, `"custom_claims":{"big":1e400,"l":[1.5,-1e400],"plan":"pro"}`)),
			wantClaims: map[string]any{"big": json.Number("1e400"), "l": []any{1.5, json.Number("-1e400")}, "plan": "pro"}},
		{name: "custom claim nested 16 deep", status: 200,
			body:       body(withMembers(session[:strings.Index(session, `,"custom_claims"`)]+`}`, `"custom_claims":{"deep":`+nested(16)+`}`)),
			wantClaims: map[string]any{"deep": mustJSON(t, nested(16))}},
		{name: "SESSION is not session", status: 200, body: `{"SESSION":` + session + `,"session_jwt":"jwt-text"}`, wantErr: ErrUnavailable},
		{name: "Session_ID is not session_id", status: 200, body: body(strings.Replace(session, `"session_id"`, `"Session_ID"`, 1)), wantErr: ErrUnavailable},
		{name: "repeated session", status: 200, body: body(session, `"session":`+strings.Replace(session, "user-test-1", "user-test-2", 1)), wantErr: ErrUnavailable},
		{name: "repeated session_jwt", status: 200, body: body(session, `"session_jwt":"other"`), wantErr: ErrUnavailable},
		{name: "repeated user_id", status: 200, body: body(withMembers(session, `"user_id":"user-test-2"`)), wantErr: ErrUnavailable},
		{name: "repeated custom claim", status: 200, body: body(strings.Replace(session, `"plan":"pro"`, `"plan":"free","plan":"pro"`, 1)), wantErr: ErrUnavailable},
		{name: "repeated attribute", status: 200, body: body(strings.Replace(session, `"user_agent":""`, `"user_agent":"","ip_address":"x"`, 1)), wantErr: ErrUnavailable},
		{name: "error with exact names", status: 404, wantErr: ErrSessionNotFound,
			body: `{"status_code":404,"request_id":"r","error_type":"session_not_found","error_message":"m"}`},
		{name: "ERROR_TYPE is not error_type", status: 404, wantErr: ErrRemote,
			body: `{"status_code":404,"request_id":"r","ERROR_TYPE":"session_not_found","error_message":"m"}`},
		{name: "repeated error_type", status: 404, wantErr: ErrRemote,
			body: `{"status_code":404,"error_type":"unauthorized_credentials","error_type":"session_not_found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newEdge(t, clk)
			srv.authenticate = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}
			v := newTestVerifier(t, srv, clk, nil)
			s, fresh, err := v.Authenticate(t.Context(), mint(t, k, claimsAt(clk.Now().Add(-time.Hour))))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || s != nil {
					t.Fatalf("= %+v, %v; want %v", s, err, tt.wantErr)
				}
				if tt.wantErr == ErrRemote && errors.Is(err, ErrSessionNotFound) {
					t.Fatalf("err = %v also matches ErrSessionNotFound", err)
				}
				return
			}
			if err != nil || fresh != "jwt-text" || s.SessionID != "session-test-1" || s.UserID != "user-test-1" {
				t.Fatalf("= %+v, %q, %v", s, fresh, err)
			}
			if !reflect.DeepEqual(s.CustomClaims, tt.wantClaims) {
				t.Fatalf("custom claims = %#v, want %#v", s.CustomClaims, tt.wantClaims)
			}
		})
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
