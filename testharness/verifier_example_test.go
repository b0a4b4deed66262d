package testharness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/verifier"
)

// Test an origin's use of package verifier against a local Latch: the
// engine under wazero, served by a Server. In production BaseURL is your
// Worker's URL.
func Example_verifier() {
	edge, err := testharness.New(testharness.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer edge.Close()
	sessionJWT := exampleLogin(edge) // what your login backend got from the edge

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
func Example_verifierMiddleware() {
	edge, err := testharness.New(testharness.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer edge.Close()
	sessionJWT := exampleLogin(edge)

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
func Example_verifierErrorHandler() {
	edge, err := testharness.New(testharness.Config{})
	if err != nil {
		log.Fatal(err)
	}
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
func Example_verifierErrRevoked() {
	edge, err := testharness.New(testharness.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer edge.Close()
	sessionJWT := exampleLogin(edge)

	ctx := context.Background()
	v, err := verifier.New(ctx, verifier.Config{ProjectID: edge.ProjectID, BaseURL: edge.URL, Secret: edge.Secret})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	_, err = v.Verify(ctx, sessionJWT)
	fmt.Println("before:", err)

	examplePost(edge, "/v1/sessions/revoke", map[string]any{"session_jwt": sessionJWT})
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

// exampleLogin signs a user in through an embeddable magic link, as an app's
// login backend would, and returns the session JWT.
func exampleLogin(edge *testharness.Server) string {
	user := examplePost(edge, "/v1/users", map[string]any{"email": "example@example.com"})
	link := examplePost(edge, "/v1/magic_links", map[string]any{"user_id": user["user_id"]})
	auth := examplePost(edge, "/v1/magic_links/authenticate", map[string]any{
		"token": link["token"], "session_duration_minutes": 60,
		"session_custom_claims": map[string]any{"plan": "pro"},
	})
	return auth["session_jwt"].(string)
}

// examplePost makes one authenticated API call to edge.
func examplePost(edge *testharness.Server, path string, body any) map[string]any {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, edge.URL+path, bytes.NewReader(b))
	req.SetBasicAuth(edge.ProjectID, edge.Secret)
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
