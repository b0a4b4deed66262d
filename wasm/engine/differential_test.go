package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/verifier"
	"github.com/latchauth/latch/wasm/engine"
)

// FuzzReadersAgree is the engine's promise to every reader of its JWTs:
// whatever custom claims and attributes a login accepts, the JWT it mints
// is accepted by the engine itself (sessions/authenticate by JWT), by
// verifier.Verify and by golang-jwt, and each of them reads back exactly
// the custom claims, attributes, session and user the session object
// holds. What the engine does not accept it refuses with a 400, never a
// 500.
func FuzzReadersAgree(f *testing.F) {
	const project = "project-test-6c1f9a2e-0d4b-4e8a-9f3c-5b7d2a1e8c40"
	signer := testSigner(f)
	e, err := engine.New(engine.Config{ProjectID: project, Secret: "secret", DB: openDB(f), Signer: signer})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(e)
	f.Cleanup(srv.Close)
	v, err := verifier.New(context.Background(), verifier.Config{ProjectID: project, BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	k, err := testKey()
	if err != nil {
		f.Fatal(err)
	}
	key := &k.Private.PublicKey
	api := apitest.Client{Handler: e, ProjectID: project, Secret: "secret"}
	call := func(path string, body any) (int, map[string]any) {
		status, out, err := api.Post(path, body)
		if err != nil {
			f.Fatal(err)
		}
		return status, out
	}
	_, created := call("/v1/users", map[string]any{"email": "readers@example.com"})
	userID, _ := created["user_id"].(string)
	if userID == "" {
		f.Fatalf("create user: %v", created)
	}

	for _, seed := range []struct{ claims, ua, ip string }{
		{`{}`, "", ""},
		{`{"role":"admin","n":1,"nested":{"a":[true,null,1.5]}}`, "Mozilla/5.0 (X11; Linux x86_64)", "203.0.113.9"},
		{`{"HTTPS://STYTCH.COM/SESSION":{"id":"session-test-x"}}`, "", ""},
		{`{"Sub":"user-test-x","EXP":1,"Aud":"x","ISS":"y"}`, "", ""},
		{`{"a":1,"a":2}`, "", ""},
		{`{"n":1e400}`, "", ""},
		{`{"n":123456789012345678901234567890,"m":-0,"f":1E-400}`, "", ""},
		{`{"d":` + strings.Repeat("[", 15) + `1` + strings.Repeat("]", 15) + `}`, "", ""},
		{`{"d":` + strings.Repeat("[", 40) + `1` + strings.Repeat("]", 40) + `}`, "", ""},
		{`{"s":"\ud800 \u2028 <&> \"\\"}`, `"\<>`, "::ffff:192.0.2.1"},
		{`{"` + strings.Repeat("k", 100) + `":"` + strings.Repeat(`\"`, 1900) + `"}`, strings.Repeat(`"`, 1024), strings.Repeat(`\`, 64)},
		{`{"a":{"x":1,"\u0078":2}}`, strings.Repeat("a", 20000), ""},
	} {
		f.Add(seed.claims, seed.ua, seed.ip)
	}
	f.Fuzz(func(t *testing.T, claims, ua, ip string) {
		_, link := call("/v1/magic_links", map[string]any{"user_id": userID})
		body := []byte(`{"token":` + quote(link["token"]) + `,"session_duration_minutes":60,"session_custom_claims":` + claims +
			`,"attributes":{"user_agent":` + quote(ua) + `,"ip_address":` + quote(ip) + `}}`)
		status, login := call("/v1/magic_links/authenticate", body)
		if status != http.StatusOK {
			if status != http.StatusBadRequest {
				t.Fatalf("status %d for %q: %v", status, body, login)
			}
			return
		}
		session, _ := login["session"].(map[string]any)
		tok, _ := login["session_jwt"].(string)
		wantClaims, _ := session["custom_claims"].(map[string]any)
		wantAttrs, _ := session["attributes"].(map[string]any)

		// The engine reads its own JWT.
		status, again := call("/v1/sessions/authenticate", map[string]any{"session_jwt": tok})
		if status != http.StatusOK || field(again, "session", "session_id") != session["session_id"] {
			t.Fatalf("engine refused its own JWT (%d bytes): %d %v", len(tok), status, again)
		}

		// The verifier reads the same.
		s, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("verifier refused the JWT (%d bytes): %v", len(tok), err)
		}
		gotClaims := s.CustomClaims
		if gotClaims == nil {
			gotClaims = map[string]any{}
		}
		gotAttrs := map[string]any{"user_agent": s.Attributes.UserAgent, "ip_address": s.Attributes.IPAddress}
		if s.SessionID != session["session_id"] || s.UserID != userID ||
			!reflect.DeepEqual(gotClaims, wantClaims) || !reflect.DeepEqual(gotAttrs, wantAttrs) {
			t.Fatalf("verifier read %+v; session object %v", s, session)
		}

		// golang-jwt reads the same.
		mc := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(tok, mc, func(*jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(project), jwt.WithIssuer("stytch.com/"+project),
			jwt.WithSubject(userID), jwt.WithExpirationRequired()); err != nil {
			t.Fatalf("golang-jwt refused the JWT: %v", err)
		}
		custom := map[string]any{}
		for k, val := range mc {
			switch k {
			case "iss", "sub", "aud", "exp", "nbf", "iat", "https://stytch.com/session":
			default:
				custom[k] = val
			}
		}
		sc, _ := mc["https://stytch.com/session"].(map[string]any)
		if !reflect.DeepEqual(custom, wantClaims) || !reflect.DeepEqual(sc["attributes"], wantAttrs) || sc["id"] != session["session_id"] {
			t.Fatalf("golang-jwt read claims %v session %v; session object %v", custom, sc, session)
		}
		var rc jwt.RegisteredClaims
		if _, err := jwt.ParseWithClaims(tok, &rc, func(*jwt.Token) (any, error) { return key, nil }); err != nil || rc.Subject != userID {
			t.Fatalf("golang-jwt RegisteredClaims: sub %q, %v", rc.Subject, err)
		}
	})
}

func quote(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		next, _ := cur.(map[string]any)
		cur = next[p]
	}
	return cur
}
