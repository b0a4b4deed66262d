package verifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serveM2M runs a request bearing tok ("" for none) through
// M2MMiddleware(scopes...) in front of a handler that names the client.
func serveM2M(v *Verifier, tok string, scopes ...string) *httptest.ResponseRecorder {
	h := v.M2MMiddleware(scopes...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := M2MFromContext(r.Context())
		if !ok {
			http.Error(w, "no token in context", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(m.ClientID))
	}))
	req := httptest.NewRequest(http.MethodGet, "/reports", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestM2MMiddleware(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	v := newTestVerifier(t, newJWKSServer(t, k), clk, nil)
	tok := mint(t, k, m2mClaimsAt(clk.Now()))
	tests := []struct {
		name       string
		header     string // the whole Authorization header; "" for none
		scopes     []string
		wantStatus int
		wantAuth   string // WWW-Authenticate
		wantError  string // the body's error
	}{
		{name: "valid", header: "Bearer " + tok, scopes: []string{"read:users"}, wantStatus: http.StatusOK},
		{name: "scheme in lower case", header: "bearer " + tok, wantStatus: http.StatusOK},
		{name: "no header", wantStatus: http.StatusUnauthorized, wantAuth: `Bearer realm="m2m"`},
		{name: "basic", header: "Basic dXNlcjpwYXNz", wantStatus: http.StatusUnauthorized, wantAuth: `Bearer realm="m2m"`},
		{name: "empty bearer", header: "Bearer ", wantStatus: http.StatusUnauthorized, wantAuth: `Bearer realm="m2m"`},
		{name: "garbage", header: "Bearer a.b.c", wantStatus: http.StatusUnauthorized,
			wantAuth: `Bearer realm="m2m", error="invalid_token"`, wantError: "invalid_token"},
		{name: "session JWT", header: "Bearer " + mint(t, k, claimsAt(clk.Now())), wantStatus: http.StatusUnauthorized,
			wantAuth: `Bearer realm="m2m", error="invalid_token"`, wantError: "invalid_token"},
		{name: "expired", header: "Bearer " + mint(t, k, m2mClaimsAt(clk.Now().Add(-2*time.Hour))), wantStatus: http.StatusUnauthorized,
			wantAuth: `Bearer realm="m2m", error="invalid_token"`, wantError: "invalid_token"},
		{name: "missing scope", header: "Bearer " + tok, scopes: []string{"read:users", "delete:users"}, wantStatus: http.StatusForbidden,
			wantAuth: `Bearer realm="m2m", error="insufficient_scope", scope="read:users delete:users"`, wantError: "insufficient_scope"},
		{name: "missing scope not a scope-token", header: "Bearer " + tok, scopes: []string{`delete:"users"`}, wantStatus: http.StatusForbidden,
			wantAuth: `Bearer realm="m2m", error="insufficient_scope"`, wantError: "insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := v.M2MMiddleware(tt.scopes...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				m, ok := M2MFromContext(r.Context())
				if !ok || m.ClientID != testClient {
					t.Errorf("M2MFromContext = %+v, %v", m, ok)
				}
			}))
			req := httptest.NewRequest(http.MethodGet, "/reports", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || rec.Header().Get("WWW-Authenticate") != tt.wantAuth {
				t.Fatalf("answered %d %q, want %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"), tt.wantStatus, tt.wantAuth)
			}
			if tt.wantStatus == http.StatusOK {
				return
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != tt.wantError || body.Description == "" {
				t.Fatalf("body %q (%v), want error %q and a description", rec.Body, err, tt.wantError)
			}
			if strings.Contains(rec.Body.String(), "verifier:") {
				t.Fatalf("body %q carries the error's text", rec.Body)
			}
		})
	}
}

func TestM2MFromContextEmpty(t *testing.T) {
	if m, ok := M2MFromContext(t.Context()); ok || m != nil {
		t.Fatalf("M2MFromContext(empty) = %v, %v", m, ok)
	}
	// A session in the context is not an M2M token.
	ctx := context.WithValue(t.Context(), sessionKey{}, &Session{SessionID: "session-test-1"})
	if m, ok := M2MFromContext(ctx); ok || m != nil {
		t.Fatalf("M2MFromContext = %v, %v", m, ok)
	}
}
