package engine_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// m2mEngine is an engine with a test clock, called in process.
type m2mEngine struct {
	t       *testing.T
	e       *engine.Engine
	clk     *clock
	project string
	revoked atomic.Int32 // calls of Config.Revoked
}

const m2mSecret = "secret-m2m"

func newM2MEngine(t *testing.T) *m2mEngine {
	t.Helper()
	h := &m2mEngine{t: t, clk: &clock{t: time.Unix(1_800_000_000, 0)}, project: "project-test-7c1e5b0a-9d2f-4e3b-8a61-2f0c9b7d4e15"}
	e, err := engine.New(engine.Config{ProjectID: h.project, Secret: m2mSecret, DB: openDB(t), Signer: testSigner(t),
		Now: h.clk.Now, Revoked: func() { h.revoked.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

// call sends a project-authenticated JSON request and returns the status
// and the decoded body.
func (h *m2mEngine) call(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	r.SetBasicAuth(h.project, m2mSecret)
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, r)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		h.t.Fatalf("%s %s: body is not JSON: %s", method, path, rec.Body)
	}
	return rec.Code, out
}

// ok is call, failing the test on anything but 200.
func (h *m2mEngine) ok(method, path string, body any) map[string]any {
	h.t.Helper()
	code, out := h.call(method, path, body)
	if code != http.StatusOK {
		h.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

// fails is call, failing the test unless it answers status and errType.
func (h *m2mEngine) fails(method, path string, body any, status int, errType string) {
	h.t.Helper()
	code, out := h.call(method, path, body)
	if code != status || out["error_type"] != errType {
		h.t.Fatalf("%s %s: got %d %v, want %d %s", method, path, code, out["error_type"], status, errType)
	}
}

// create makes a client and returns its m2m_client (with client_secret).
func (h *m2mEngine) create(body map[string]any) map[string]any {
	h.t.Helper()
	return h.ok(http.MethodPost, "/v1/m2m/clients", body)["m2m_client"].(map[string]any)
}

// token posts a raw body to the token endpoint, with HTTP Basic
// credentials when basic holds two halves (sent as given).
func (h *m2mEngine) token(contentType, body string, basic ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/public/"+h.project+"/oauth2/token", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	switch len(basic) {
	case 1: // an Authorization header as given
		r.Header.Set("Authorization", basic[0])
	case 2:
		r.SetBasicAuth(basic[0], basic[1])
	}
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, r)
	return rec
}

// mint gets a token by form with the credentials in the body; "" when
// refused.
func (h *m2mEngine) mint(id, secret string) string {
	h.t.Helper()
	rec := h.token("application/x-www-form-urlencoded", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode())
	if rec.Code != http.StatusOK {
		return ""
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		h.t.Fatal(err)
	}
	return out["access_token"].(string)
}

// feed reads the whole revocation feed backlog.
func (h *m2mEngine) feed() []map[string]any {
	h.t.Helper()
	out := h.ok(http.MethodGet, "/v1/sessions/revocations", nil)
	var evs []map[string]any
	for _, ev := range out["events"].([]any) {
		evs = append(evs, ev.(map[string]any))
	}
	return evs
}

// claimsOf decodes a JWT's payload, unverified (the signature is the
// session JWT's path, verified by the conformance suite).
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestM2MClientCRUD(t *testing.T) {
	h := newM2MEngine(t)
	m := h.create(map[string]any{"client_name": "billing", "client_description": "nightly jobs",
		"scopes": []string{"read:users", "write:users", "read:users"}, "trusted_metadata": map[string]any{"team": "a"}})
	id, secret := m["client_id"].(string), m["client_secret"].(string)
	if !strings.HasPrefix(id, "m2m-client-test-") || len(id) != len("m2m-client-test-")+36 {
		t.Errorf("client_id %q", id)
	}
	if len(secret) != 43 || m["client_secret_last_four"] != secret[39:] || m["next_client_secret_last_four"] != nil {
		t.Errorf("secret %d chars, last four %v, next %v", len(secret), m["client_secret_last_four"], m["next_client_secret_last_four"])
	}
	if m["status"] != "active" || len(m["scopes"].([]any)) != 2 {
		t.Errorf("status %v scopes %v", m["status"], m["scopes"])
	}
	got := h.ok(http.MethodGet, "/v1/m2m/clients/"+id, nil)["m2m_client"].(map[string]any)
	if _, has := got["client_secret"]; has {
		t.Errorf("get shows the secret")
	}
	if got["client_name"] != "billing" || got["trusted_metadata"].(map[string]any)["team"] != "a" {
		t.Errorf("get: %v", got)
	}

	custom := h.create(map[string]any{"client_id": "billing_2", "client_secret": strings.Repeat("s", 31) + "WXYZ"})
	if custom["client_id"] != "billing_2" || custom["client_secret_last_four"] != "WXYZ" {
		t.Errorf("custom client: %v", custom)
	}
	for _, tc := range []struct {
		name    string
		body    map[string]any
		errType string
	}{
		{name: "duplicate id", body: map[string]any{"client_id": "billing_2"}, errType: "duplicate_client_id"},
		{name: "id with a slash", body: map[string]any{"client_id": "a/b"}, errType: "invalid_client_id"},
		{name: "id too long", body: map[string]any{"client_id": strings.Repeat("a", 129)}, errType: "invalid_client_id"},
		{name: "short secret", body: map[string]any{"client_secret": "short"}, errType: "invalid_client_secret"},
		{name: "secret with a space", body: map[string]any{"client_secret": strings.Repeat("s", 40) + " x"}, errType: "invalid_client_secret"},
		{name: "scope with a space", body: map[string]any{"scopes": []string{"a b"}}, errType: "invalid_scopes"},
		{name: "empty scope", body: map[string]any{"scopes": []string{""}}, errType: "invalid_scopes"},
		{name: "too many scopes", body: map[string]any{"scopes": strings.Split(strings.Repeat("x,", 64)+"y", ",")}, errType: "invalid_scopes"},
		{name: "name too long", body: map[string]any{"client_name": strings.Repeat("n", 257)}, errType: "invalid_client_name"},
		{name: "control in description", body: map[string]any{"client_description": "a\nb"}, errType: "invalid_client_description"},
		{name: "metadata not an object", body: map[string]any{"trusted_metadata": []int{1}}, errType: "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.fails(http.MethodPost, "/v1/m2m/clients", tc.body, http.StatusBadRequest, tc.errType)
		})
	}

	up := h.ok(http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"client_name": "billing-2",
		"scopes": []string{"read:users"}, "trusted_metadata": map[string]any{"team": nil, "tier": 1}})["m2m_client"].(map[string]any)
	if up["client_name"] != "billing-2" || up["client_description"] != "nightly jobs" || len(up["scopes"].([]any)) != 1 {
		t.Errorf("update: %v", up)
	}
	if md := up["trusted_metadata"].(map[string]any); md["team"] != nil || md["tier"] != float64(1) {
		t.Errorf("metadata merge: %v", md)
	}
	h.fails(http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"status": "deleted"}, http.StatusBadRequest, "invalid_status")
	h.fails(http.MethodPut, "/v1/m2m/clients/nobody", map[string]any{"client_name": "x"}, http.StatusNotFound, "m2m_client_not_found")

	// Search: by filter, and page by page.
	for i := range 3 {
		h.create(map[string]any{"client_name": "page", "scopes": []string{"s" + string(rune('0'+i))}})
	}
	res := h.ok(http.MethodPost, "/v1/m2m/clients/search", map[string]any{"query": map[string]any{"operator": "AND",
		"operands": []any{map[string]any{"filter_name": "client_name", "filter_value": []string{"page"}}}}, "limit": 2})
	if n := len(res["m2m_clients"].([]any)); n != 2 || res["results_metadata"].(map[string]any)["total"] != float64(3) {
		t.Fatalf("first page: %d clients, %v", n, res["results_metadata"])
	}
	cur := res["results_metadata"].(map[string]any)["next_cursor"].(string)
	res = h.ok(http.MethodPost, "/v1/m2m/clients/search", map[string]any{"query": map[string]any{"operator": "AND",
		"operands": []any{map[string]any{"filter_name": "client_name", "filter_value": []string{"page"}}}}, "limit": 2, "cursor": cur})
	if n := len(res["m2m_clients"].([]any)); n != 1 || res["results_metadata"].(map[string]any)["next_cursor"] != "" {
		t.Fatalf("second page: %d clients, %v", n, res["results_metadata"])
	}
	res = h.ok(http.MethodPost, "/v1/m2m/clients/search", map[string]any{"query": map[string]any{"operator": "OR",
		"operands": []any{map[string]any{"filter_name": "scopes", "filter_value": []string{"s1", "s2"}},
			map[string]any{"filter_name": "client_id", "filter_value": []string{"billing_2"}}}}})
	if n := len(res["m2m_clients"].([]any)); n != 3 {
		t.Errorf("scopes or client_id: %d clients", n)
	}
	res = h.ok(http.MethodPost, "/v1/m2m/clients/search", map[string]any{"query": map[string]any{
		"operands": []any{map[string]any{"filter_name": "status", "filter_value": "inactive"}}}})
	if n := len(res["m2m_clients"].([]any)); n != 0 {
		t.Errorf("inactive: %d clients", n)
	}
	for _, body := range []map[string]any{
		{"limit": 1001},
		{"cursor": "!"},
		{"query": map[string]any{"operator": "XOR", "operands": []any{map[string]any{"filter_name": "status", "filter_value": "active"}}}},
		{"query": map[string]any{"operands": []any{map[string]any{"filter_name": "status", "filter_value": "deleted"}}}},
		{"query": map[string]any{"operands": []any{map[string]any{"filter_name": "secret", "filter_value": []string{"x"}}}}},
		{"query": map[string]any{"operands": []any{map[string]any{"filter_name": "client_id", "filter_value": []string{}}}}},
	} {
		h.fails(http.MethodPost, "/v1/m2m/clients/search", body, http.StatusBadRequest, "invalid_search_query")
	}

	if out := h.ok(http.MethodDelete, "/v1/m2m/clients/"+id, nil); out["client_id"] != id {
		t.Errorf("delete: %v", out)
	}
	h.fails(http.MethodGet, "/v1/m2m/clients/"+id, nil, http.StatusNotFound, "m2m_client_not_found")
	h.fails(http.MethodDelete, "/v1/m2m/clients/"+id, nil, http.StatusNotFound, "m2m_client_not_found")
	h.fails(http.MethodGet, "/v1/m2m/clients/a.b", nil, http.StatusBadRequest, "invalid_client_id")
}

func TestM2MTokenRequests(t *testing.T) {
	h := newM2MEngine(t)
	// A secret of the caller's choosing with characters that form
	// encoding changes.
	const secret = "s3cret+with%and:and/and=and&more"
	m := h.create(map[string]any{"client_id": "reporter", "client_secret": secret, "scopes": []string{"read:users", "write:users"}})
	id := m["client_id"].(string)
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType, jsonType = "application/x-www-form-urlencoded", "application/json"
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		basic       []string
		wantStatus  int
		wantError   string   // RFC 6749 error code; "" for a token
		wantScopes  string   // the token's scope claim
		wantHeader  []string // a header the answer must carry, and its value
	}{
		{name: "form", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret),
			wantStatus: 200, wantScopes: "read:users write:users"},
		{name: "json", contentType: jsonType, body: `{"grant_type":"client_credentials","client_id":"reporter","client_secret":"` + secret + `","extra":1}`,
			wantStatus: 200, wantScopes: "read:users write:users"},
		{name: "json without content type", body: `{"grant_type":"client_credentials","client_id":"reporter","client_secret":"` + secret + `"}`,
			wantStatus: 200, wantScopes: "read:users write:users"},
		{name: "basic, halves form-encoded", contentType: formType, body: form("grant_type", "client_credentials", "scope", "write:users"),
			basic: []string{url.QueryEscape(id), url.QueryEscape(secret)}, wantStatus: 200, wantScopes: "write:users"},
		{name: "basic and the same client_id in the body", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id),
			basic: []string{id, url.QueryEscape(secret)}, wantStatus: 200, wantScopes: "read:users write:users"},
		{name: "basic, halves not encoded", contentType: formType, body: form("grant_type", "client_credentials"),
			basic: []string{id, secret}, wantStatus: 401, wantError: "invalid_client", wantHeader: []string{"WWW-Authenticate", `Basic realm="latch"`}},
		{name: "basic, bad percent-encoding", contentType: formType, body: form("grant_type", "client_credentials"),
			basic: []string{id, "%zz"}, wantStatus: 401, wantError: "invalid_client"},
		{name: "scope subset, repeated", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "scope", "write:users  write:users"),
			wantStatus: 200, wantScopes: "write:users"},
		{name: "scope not held", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "scope", "read:users admin"),
			wantStatus: 400, wantError: "invalid_scope"},
		{name: "scope with a quote", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "scope", `read"users`),
			wantStatus: 400, wantError: "invalid_scope"},
		{name: "no grant_type", contentType: formType, body: form("client_id", id, "client_secret", secret), wantStatus: 400, wantError: "invalid_request"},
		{name: "password grant", contentType: formType, body: form("grant_type", "password", "client_id", id, "client_secret", secret), wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "authorization_code grant", contentType: jsonType, body: `{"grant_type":"authorization_code"}`, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "grant_type twice", contentType: formType, body: form("grant_type", "client_credentials", "grant_type", "client_credentials", "client_id", id, "client_secret", secret),
			wantStatus: 400, wantError: "invalid_request"},
		{name: "basic and a body secret", contentType: formType, body: form("grant_type", "client_credentials", "client_secret", secret),
			basic: []string{id, url.QueryEscape(secret)}, wantStatus: 400, wantError: "invalid_request"},
		{name: "basic and another body client_id", contentType: formType, body: form("grant_type", "client_credentials", "client_id", "other"),
			basic: []string{id, url.QueryEscape(secret)}, wantStatus: 400, wantError: "invalid_request"},
		{name: "no credentials", contentType: formType, body: form("grant_type", "client_credentials"), wantStatus: 401, wantError: "invalid_client"},
		{name: "no secret", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id), wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong secret", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret+"x"), wantStatus: 401, wantError: "invalid_client"},
		{name: "unknown client", contentType: formType, body: form("grant_type", "client_credentials", "client_id", "nobody", "client_secret", secret), wantStatus: 401, wantError: "invalid_client"},
		{name: "malformed client id", contentType: formType, body: form("grant_type", "client_credentials", "client_id", "a b", "client_secret", secret), wantStatus: 401, wantError: "invalid_client"},
		{name: "bearer authorization", contentType: formType, body: form("grant_type", "client_credentials", "client_id", id, "client_secret", secret),
			basic: []string{"Bearer x"}, wantStatus: 401, wantError: "invalid_client"},
		{name: "json secret not a string", contentType: jsonType, body: `{"grant_type":"client_credentials","client_id":"reporter","client_secret":1}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "json member twice", contentType: jsonType, body: `{"grant_type":"client_credentials","grant_type":"client_credentials"}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "json array", contentType: jsonType, body: `[]`, wantStatus: 400, wantError: "invalid_request"},
		{name: "other content type", contentType: "text/plain", body: "grant_type=client_credentials", wantStatus: 400, wantError: "invalid_request"},
		{name: "bad form encoding", contentType: formType, body: "grant_type=%zz", wantStatus: 400, wantError: "invalid_request"},
		{name: "too large", contentType: formType, body: "grant_type=client_credentials&x=" + strings.Repeat("a", 20<<10), wantStatus: 413, wantError: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := h.token(tc.contentType, tc.body, tc.basic...)
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("body is not JSON: %s", rec.Body)
			}
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", rec.Code, tc.wantStatus, out)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if tc.wantHeader != nil && rec.Header().Get(tc.wantHeader[0]) != tc.wantHeader[1] {
				t.Errorf("%s %q, want %q", tc.wantHeader[0], rec.Header().Get(tc.wantHeader[0]), tc.wantHeader[1])
			}
			if tc.wantError != "" {
				if out["error"] != tc.wantError || out["error_description"] == "" || len(out) != 2 {
					t.Fatalf("error body %v, want error %s", out, tc.wantError)
				}
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("the answer shows the secret")
				}
				return
			}
			if out["token_type"] != "bearer" || out["expires_in"] != float64(3600) || out["status_code"] != float64(200) {
				t.Errorf("answer %v", out)
			}
			c := claimsOf(t, out["access_token"].(string))
			now := float64(h.clk.Now().Unix())
			if c["sub"] != id || c["scope"] != tc.wantScopes || c["iss"] != "stytch.com/"+h.project ||
				c["iat"] != now || c["nbf"] != now || c["exp"] != now+3600 || c["jti"] == "" {
				t.Errorf("claims %v", c)
			}
			if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != h.project {
				t.Errorf("aud %v", c["aud"])
			}
			if _, has := c["https://stytch.com/session"]; has {
				t.Errorf("an M2M token carries the session claim")
			}
		})
	}
	t.Run("another project", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/v1/public/project-test-other/oauth2/token",
			strings.NewReader(form("grant_type", "client_credentials", "client_id", id, "client_secret", secret)))
		r.Header.Set("Content-Type", formType)
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, r)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"error":"invalid_request"`) {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}

// TestM2MWrongSecretsHoldTheClient: the eleventh wrong secret within a
// minute, and any request after it in that minute, is answered 429.
func TestM2MWrongSecretsHoldTheClient(t *testing.T) {
	h := newM2MEngine(t)
	m := h.create(map[string]any{})
	id, secret := m["client_id"].(string), m["client_secret"].(string)
	for i := range 10 {
		if h.mint(id, "wrong-secret-"+strings.Repeat("x", i)) != "" {
			t.Fatal("a wrong secret minted")
		}
	}
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
	rec := h.token("application/x-www-form-urlencoded", body)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("after ten wrong secrets: %d %s", rec.Code, rec.Body)
	}
	h.clk.Advance(61 * time.Second)
	if h.mint(id, secret) == "" {
		t.Fatal("a minute later the right secret is refused")
	}
}

func TestM2MRotation(t *testing.T) {
	h := newM2MEngine(t)
	m := h.create(map[string]any{"scopes": []string{"a"}})
	id, old := m["client_id"].(string), m["client_secret"].(string)
	base := "/v1/m2m/clients/" + id + "/secrets/rotate"
	h.fails(http.MethodPost, base, nil, http.StatusBadRequest, "m2m_client_secret_rotation_not_started")
	h.fails(http.MethodPost, base+"/cancel", nil, http.StatusBadRequest, "m2m_client_secret_rotation_not_started")
	h.fails(http.MethodPost, "/v1/m2m/clients/nobody/secrets/rotate/start", nil, http.StatusNotFound, "m2m_client_not_found")

	started := h.ok(http.MethodPost, base+"/start", nil)["m2m_client"].(map[string]any)
	next := started["next_client_secret"].(string)
	if len(next) != 43 || started["next_client_secret_last_four"] != next[39:] || started["client_secret_last_four"] != old[39:] {
		t.Fatalf("start: %v", started)
	}
	if _, has := h.ok(http.MethodGet, "/v1/m2m/clients/"+id, nil)["m2m_client"].(map[string]any)["next_client_secret"]; has {
		t.Error("get shows the next secret")
	}
	h.fails(http.MethodPost, base+"/start", nil, http.StatusBadRequest, "m2m_client_secret_rotation_in_progress")
	if h.mint(id, old) == "" || h.mint(id, next) == "" {
		t.Fatal("during a rotation both secrets mint")
	}

	// Cancel: the next secret stops working, the current one goes on.
	cancelled := h.ok(http.MethodPost, base+"/cancel", nil)["m2m_client"].(map[string]any)
	if cancelled["next_client_secret_last_four"] != nil {
		t.Errorf("cancel: %v", cancelled)
	}
	if h.mint(id, next) != "" || h.mint(id, old) == "" {
		t.Fatal("after cancel only the current secret mints")
	}

	// Rotate: the next secret becomes current, the old one stops, and
	// every token minted before ends (a feed event).
	next = h.ok(http.MethodPost, base+"/start", nil)["m2m_client"].(map[string]any)["next_client_secret"].(string)
	before := h.mint(id, next)
	callsBefore := h.revoked.Load()
	h.clk.Advance(time.Second)
	rotated := h.ok(http.MethodPost, base, nil)["m2m_client"].(map[string]any)
	if rotated["client_secret_last_four"] != next[39:] || rotated["next_client_secret_last_four"] != nil {
		t.Errorf("rotate: %v", rotated)
	}
	if h.mint(id, old) != "" || h.mint(id, next) == "" {
		t.Fatal("after rotate only the new secret mints")
	}
	if h.revoked.Load() == callsBefore {
		t.Error("rotate did not call the Revoked hook")
	}
	evs := clientEventsOf(h.feed(), id)
	if len(evs) != 1 {
		t.Fatalf("rotate wrote %d events", len(evs))
	}
	checkRevokes(t, evs[0], before)
}

// clientEventsOf returns the feed events of client id.
func clientEventsOf(evs []map[string]any, id string) []map[string]any {
	var out []map[string]any
	for _, ev := range evs {
		if ev["client_id"] == id {
			out = append(out, ev)
		}
	}
	return out
}

// checkRevokes asserts that ev is a client event ({client_id, revoked_at})
// that ends tok: tok's iat <= revoked_at.
func checkRevokes(t *testing.T, ev map[string]any, tok string) {
	t.Helper()
	if _, has := ev["session_id"]; has || len(ev) != 2 {
		t.Errorf("client event %v", ev)
	}
	at, err := time.Parse(time.RFC3339, ev["revoked_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if iat := claimsOf(t, tok)["iat"].(float64); int64(iat) > at.Unix() {
		t.Errorf("token iat %v after the event's revoked_at %v", iat, at.Unix())
	}
}

func TestM2MDeactivateAndDeleteEndTokens(t *testing.T) {
	h := newM2MEngine(t)
	m := h.create(map[string]any{})
	id, secret := m["client_id"].(string), m["client_secret"].(string)
	tok := h.mint(id, secret)
	if tok == "" {
		t.Fatal("an active client cannot mint")
	}
	calls := h.revoked.Load()
	h.ok(http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"status": "inactive"})
	if h.mint(id, secret) != "" {
		t.Fatal("an inactive client minted")
	}
	if h.revoked.Load() == calls {
		t.Error("deactivation did not call the Revoked hook")
	}
	evs := clientEventsOf(h.feed(), id)
	if len(evs) != 1 {
		t.Fatalf("deactivation wrote %d events", len(evs))
	}
	checkRevokes(t, evs[0], tok)
	// A change that leaves the client inactive writes no event.
	h.ok(http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"client_name": "still off", "status": "inactive"})
	if n := len(clientEventsOf(h.feed(), id)); n != 1 {
		t.Errorf("%d events after a change of name", n)
	}

	h.clk.Advance(2 * time.Second)
	h.ok(http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"status": "active"})
	again := h.mint(id, secret)
	if again == "" {
		t.Fatal("a reactivated client cannot mint")
	}
	h.ok(http.MethodDelete, "/v1/m2m/clients/"+id, nil)
	if h.mint(id, secret) != "" {
		t.Fatal("a deleted client minted")
	}
	evs = clientEventsOf(h.feed(), id)
	if len(evs) != 2 {
		t.Fatalf("%d events after delete", len(evs))
	}
	checkRevokes(t, evs[1], again)

	// Session events keep their shape beside client events.
	for _, ev := range h.feed() {
		if ev["client_id"] == nil && (ev["session_id"] == nil || ev["user_id"] == nil) {
			t.Errorf("event %v", ev)
		}
	}
}

// TestM2MAndSessionJWTsApart: an M2M token is not a session JWT to
// sessions/authenticate, and a session JWT is no client credential.
func TestM2MAndSessionJWTsApart(t *testing.T) {
	h := newM2MEngine(t)
	m := h.create(map[string]any{"scopes": []string{"a"}})
	id := m["client_id"].(string)
	tok := h.mint(id, m["client_secret"].(string))
	h.fails(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_jwt": tok}, http.StatusBadRequest, "invalid_session_jwt")
	h.fails(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_jwt": tok}, http.StatusBadRequest, "invalid_session_jwt")

	userID := h.ok(http.MethodPost, "/v1/users", map[string]any{"email": "m2m@example.com"})["user_id"].(string)
	link := h.ok(http.MethodPost, "/v1/magic_links", map[string]any{"user_id": userID})["token"].(string)
	session := h.ok(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": link, "session_duration_minutes": 60})
	sessionJWT := session["session_jwt"].(string)
	if _, has := claimsOf(t, sessionJWT)["scope"]; has {
		t.Error("a session JWT carries a scope claim")
	}
	if h.mint(id, sessionJWT) != "" {
		t.Error("a session JWT served as the client's secret")
	}
	rec := h.token("application/x-www-form-urlencoded", url.Values{"grant_type": {"client_credentials"}}.Encode(), id, sessionJWT)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("a session JWT in Basic: %d %s", rec.Code, rec.Body)
	}
}
