package verifier_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/verifier"
)

// Verify a session JWT in an origin server. The edge here is a stand-in
// serving what the verifier asks of a Latch edge (package testharness runs
// the real engine in process, for an origin's own tests); in production
// BaseURL is your Worker's URL.
func Example() {
	edge := startEdge()
	defer edge.Close()
	sessionJWT := edge.login() // what your login backend got from the edge

	ctx := context.Background()
	v, err := verifier.New(ctx, verifier.Config{
		ProjectID: edge.ProjectID,
		BaseURL:   edge.URL,
		Secret:    edge.Secret, // for Authenticate's fallback and the revocation feed
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close() // stops the revocation feed's long-poll
	s, err := v.Verify(ctx, sessionJWT)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Roles, s.CustomClaims["plan"], s.AuthenticationFactors[0].Type)
	// Output: [stytch_user] pro magic_link
}

// Protect handlers with the middleware: it reads the stytch_session_jwt
// cookie (or stytch_session, or Authorization: Bearer), refreshes the JWT
// cookie through the edge when needed, and answers 401 otherwise.
func ExampleVerifier_Middleware() {
	edge := startEdge()
	defer edge.Close()
	sessionJWT := edge.login()

	v, err := verifier.New(context.Background(), verifier.Config{ProjectID: edge.ProjectID, BaseURL: edge.URL, Secret: edge.Secret})
	if err != nil {
		log.Fatal(err)
	}
	app := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := verifier.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.CustomClaims["plan"])
	}))

	for _, cookie := range []string{sessionJWT, "not-a-session"} {
		req := httptest.NewRequest(http.MethodGet, "/account", nil)
		req.AddCookie(&http.Cookie{Name: "stytch_session_jwt", Value: cookie})
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// 200 text/plain; charset=utf-8
	// 401 application/json
}

// Send a browser without a session to sign in: Config.ErrorHandler
// answers the requests the middleware turns away, given Authenticate's
// error. Package testharness/exampleorigin has a whole origin built so.
func ExampleConfig_errorHandler() {
	edge := startEdge()
	defer edge.Close()

	v, err := verifier.New(context.Background(), verifier.Config{
		ProjectID: edge.ProjectID,
		BaseURL:   edge.URL,
		Secret:    edge.Secret,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrKeysUnavailable) {
				http.Error(w, "Sign-in is unavailable, try again.", http.StatusServiceUnavailable)
				return
			}
			returnTo := "https://app.example.com" + r.URL.RequestURI()
			http.Redirect(w, r, "https://auth.example.com/login?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	app := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/account?tab=billing", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 https://auth.example.com/login?return_to=https%3A%2F%2Fapp.example.com%2Faccount%3Ftab%3Dbilling
}

// A session revoked at the edge stops verifying at the origin within
// about a second: the Verifier follows the edge's revocation feed.
func ExampleErrRevoked() {
	edge := startEdge()
	defer edge.Close()
	sessionJWT := edge.login()

	ctx := context.Background()
	v, err := verifier.New(ctx, verifier.Config{ProjectID: edge.ProjectID, BaseURL: edge.URL, Secret: edge.Secret})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	_, err = v.Verify(ctx, sessionJWT)
	fmt.Println("before:", err)

	post(edge, "/v1/sessions/revoke", map[string]any{"session_jwt": sessionJWT})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err = v.Verify(ctx, sessionJWT); errors.Is(err, verifier.ErrRevoked) {
			break
		}
	}
	fmt.Println("after:", errors.Is(err, verifier.ErrRevoked), errors.Is(err, verifier.ErrSessionNotFound))
	// Output:
	// before: <nil>
	// after: true true
}

// Check an M2M access token in a service that other services call: the
// token is what the caller got from the edge's token endpoint
// (POST /v1/public/{project_id}/oauth2/token, client credentials), and
// VerifyM2M checks it locally, with the scopes the operation needs.
func ExampleVerifier_VerifyM2M() {
	edge := startEdge()
	defer edge.Close()
	accessToken := edge.m2mToken("m2m-client-test-00000000-0000-4000-8000-000000000001", "read:users write:*")

	ctx := context.Background()
	v, err := verifier.New(ctx, verifier.Config{ProjectID: edge.ProjectID, BaseURL: edge.URL, Secret: edge.Secret})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	m, err := v.VerifyM2M(ctx, accessToken, "read:users", "write:reports")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.ClientID, m.Scopes)

	_, err = v.VerifyM2M(ctx, accessToken, "delete:users")
	fmt.Println(errors.Is(err, verifier.ErrInsufficientScope))
	_, err = v.VerifyM2M(ctx, edge.login()) // a session JWT is not an M2M token
	fmt.Println(errors.Is(err, verifier.ErrNotM2M))
	// Output:
	// m2m-client-test-00000000-0000-4000-8000-000000000001 [read:users write:*]
	// true
	// true
}

// Protect an API that machines call: M2MMiddleware takes the token from
// Authorization: Bearer and answers 401 or 403 as RFC 6750 says.
func ExampleVerifier_M2MMiddleware() {
	edge := startEdge()
	defer edge.Close()
	accessToken := edge.m2mToken("m2m-client-test-00000000-0000-4000-8000-000000000001", "read:reports")

	v, err := verifier.New(context.Background(), verifier.Config{ProjectID: edge.ProjectID, BaseURL: edge.URL, Secret: edge.Secret})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /reports", v.M2MMiddleware("read:reports")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := verifier.M2MFromContext(r.Context())
		fmt.Fprintf(w, "reports for %s", m.ClientID)
	})))
	mux.Handle("DELETE /reports", v.M2MMiddleware("delete:reports")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))

	for _, call := range []struct{ method, token string }{
		{http.MethodGet, accessToken}, {http.MethodGet, ""}, {http.MethodGet, edge.login()}, {http.MethodDelete, accessToken},
	} {
		req := httptest.NewRequest(call.method, "/reports", nil)
		if call.token != "" {
			req.Header.Set("Authorization", "Bearer "+call.token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body)
			continue
		}
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 200 reports for m2m-client-test-00000000-0000-4000-8000-000000000001
	// 401 Bearer realm="m2m"
	// 401 Bearer realm="m2m", error="invalid_token"
	// 403 Bearer realm="m2m", error="insufficient_scope", scope="delete:reports"
}

// edge is a stand-in for a Latch edge, as much of one as these examples
// use: the JWKS, session JWTs and M2M access tokens it mints itself, the revocation feed (its
// reads held until a revoke or the wait ends), POST /v1/sessions/revoke
// by session_jwt, and POST /v1/sessions/authenticate, which knows no
// session.
type edge struct {
	*httptest.Server
	ProjectID, Secret string
	key               *rsa.PrivateKey

	mu       sync.Mutex
	sessions map[string]string // session JWT → session id
	revoked  []string          // the feed: revoked session ids, cursor = index
	wake     chan struct{}     // closed and replaced at each revoke
	closed   chan struct{}     // closed by Close: held reads end
}

const edgeKID = "jwk-test-3f0c2a9e-5b7d-4e1a-8c6f-2d9b4a7e1c05"

func startEdge() *edge {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	e := &edge{
		ProjectID: "project-test-6f1e2d3c-4b5a-4978-8e9f-0a1b2c3d4e5f",
		Secret:    "secret-test-stand-in",
		key:       key,
		sessions:  map[string]string{},
		wake:      make(chan struct{}),
		closed:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/sessions/jwks/"+e.ProjectID, e.jwks)
	mux.HandleFunc("GET /v1/sessions/revocations", e.authorized(e.feed))
	mux.HandleFunc("POST /v1/sessions/revoke", e.authorized(e.revoke))
	mux.HandleFunc("POST /v1/sessions/authenticate", e.authorized(func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusNotFound, map[string]any{"error_type": "session_not_found", "error_message": "Session could not be found."})
	}))
	e.Server = httptest.NewServer(mux)
	return e
}

// Close ends the feed reads held open and stops the server.
func (e *edge) Close() {
	close(e.closed)
	e.Server.Close()
}

// login mints the session JWT a login backend gets from the edge, for a
// new session with the custom claim plan: pro.
func (e *edge) login() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now().UTC()
	ts := now.Format(time.RFC3339)
	sessionID := fmt.Sprintf("session-test-00000000-0000-4000-8000-%012d", len(e.sessions)+1)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "stytch.com/" + e.ProjectID, "aud": []string{e.ProjectID},
		"sub": "user-test-00000000-0000-4000-8000-000000000001",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Unix() + 300,
		"plan": "pro",
		"https://stytch.com/session": map[string]any{
			"id": sessionID, "started_at": ts, "last_accessed_at": ts,
			"expires_at": now.Add(time.Hour).Format(time.RFC3339),
			"attributes": map[string]any{"ip_address": "", "user_agent": ""},
			"authentication_factors": []any{map[string]any{
				"type": "magic_link", "delivery_method": "email", "last_authenticated_at": ts,
				"email_factor": map[string]any{"email_id": "email-test-00000000-0000-4000-8000-000000000001", "email_address": "example@example.com"},
			}},
			"roles": []string{"stytch_user"},
		},
	})
	tok.Header["kid"] = edgeKID
	s, err := tok.SignedString(e.key)
	if err != nil {
		log.Fatal(err)
	}
	e.sessions[s] = sessionID
	return s
}

// m2mToken mints the access token the edge's token endpoint answers an
// M2M client's client credentials with, for scope (space-separated).
func (e *edge) m2mToken(clientID, scope string) string {
	now := time.Now().Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "stytch.com/" + e.ProjectID, "aud": []string{e.ProjectID}, "sub": clientID, "scope": scope,
		"iat": now, "nbf": now, "exp": now + 3600, "jti": "8c4f1e2a-7b3d-4a6c-9e5f-0d1b2c3a4e5f",
	})
	tok.Header["kid"] = edgeKID
	s, err := tok.SignedString(e.key)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func (e *edge) jwks(w http.ResponseWriter, _ *http.Request) {
	enc := base64.RawURLEncoding.EncodeToString
	answer(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": edgeKID,
		"n": enc(e.key.N.Bytes()), "e": enc(big.NewInt(int64(e.key.E)).Bytes()),
	}}})
}

func (e *edge) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != e.ProjectID || secret != e.Secret {
			answer(w, http.StatusUnauthorized, map[string]any{"error_type": "unauthorized_credentials", "error_message": "Unauthorized."})
			return
		}
		h(w, r)
	}
}

// feed answers GET /v1/sessions/revocations?cursor=&wait=.
func (e *edge) feed(w http.ResponseWriter, r *http.Request) {
	cursor, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	wait, _ := strconv.Atoi(r.URL.Query().Get("wait"))
	held := time.NewTimer(time.Duration(wait) * time.Second)
	defer held.Stop()
	for {
		e.mu.Lock()
		ids, wake := e.revoked[min(cursor, len(e.revoked)):], e.wake
		e.mu.Unlock()
		if len(ids) > 0 || wait == 0 {
			events := []any{}
			for _, id := range ids {
				events = append(events, map[string]any{"session_id": id, "revoked_at": time.Now().UTC().Format(time.RFC3339)})
			}
			answer(w, http.StatusOK, map[string]any{"events": events, "cursor": strconv.Itoa(cursor + len(ids)), "reset": false, "has_more": false})
			return
		}
		select {
		case <-wake:
		case <-held.C:
			wait = 0
		case <-r.Context().Done():
			return
		case <-e.closed:
			return
		}
	}
}

// revoke answers POST /v1/sessions/revoke {"session_jwt": …}.
func (e *edge) revoke(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SessionJWT string `json:"session_jwt"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := e.sessions[body.SessionJWT]
	if !ok {
		answer(w, http.StatusNotFound, map[string]any{"error_type": "session_not_found", "error_message": "Session could not be found."})
		return
	}
	e.revoked = append(e.revoked, id)
	close(e.wake)
	e.wake = make(chan struct{})
	answer(w, http.StatusOK, map[string]any{})
}

// answer writes a Stytch-shaped JSON answer: fields plus status_code and
// request_id.
func answer(w http.ResponseWriter, status int, fields map[string]any) {
	fields["status_code"] = status
	fields["request_id"] = "request-id-test-stand-in"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(fields)
}

// post makes one authenticated API call to e.
func post(e *edge, path string, body any) map[string]any {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.URL+path, bytes.NewReader(b))
	req.SetBasicAuth(e.ProjectID, e.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		log.Fatalf("%s: %d %v", path, resp.StatusCode, out)
	}
	return out
}
