package engine_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// TestServeFeedWait checks what a host that holds the feed's waiting
// reads outside the engine is told: only a read with the project's
// credentials and a wait and cursor the feed takes may be held (nothing
// written); every other request is answered at once, as ServeHTTP answers
// it.
func TestServeFeedWait(t *testing.T) {
	const project, secret = "project-test-feedwait", "secret-feedwait"
	e, err := engine.New(engine.Config{ProjectID: project, Secret: secret, DB: openDB(t), Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		method     string
		target     string
		user, pass string // Basic auth; none when both are empty
		wantHold   bool
		wantStatus int    // when not held
		wantType   string // error_type when not held; "" for a feed answer
	}{
		{name: "wait", method: http.MethodGet, target: "/v1/sessions/revocations?wait=30", user: project, pass: secret, wantHold: true},
		{name: "wait with cursor", method: http.MethodGet, target: "/v1/sessions/revocations?cursor=0&wait=1", user: project, pass: secret, wantHold: true},
		{name: "no credentials", method: http.MethodGet, target: "/v1/sessions/revocations?wait=30", wantStatus: http.StatusUnauthorized, wantType: "unauthorized_credentials"},
		{name: "wrong secret", method: http.MethodGet, target: "/v1/sessions/revocations?wait=30", user: project, pass: secret + "x", wantStatus: http.StatusUnauthorized, wantType: "unauthorized_credentials"},
		{name: "wrong project", method: http.MethodGet, target: "/v1/sessions/revocations?wait=30", user: project + "x", pass: secret, wantStatus: http.StatusUnauthorized, wantType: "unauthorized_credentials"},
		{name: "no credentials, refused wait", method: http.MethodGet, target: "/v1/sessions/revocations?wait=31", wantStatus: http.StatusUnauthorized, wantType: "unauthorized_credentials"},
		{name: "wait too long", method: http.MethodGet, target: "/v1/sessions/revocations?wait=31", user: project, pass: secret, wantStatus: http.StatusBadRequest, wantType: "bad_request"},
		{name: "wait not a number", method: http.MethodGet, target: "/v1/sessions/revocations?wait=x", user: project, pass: secret, wantStatus: http.StatusBadRequest, wantType: "bad_request"},
		{name: "negative wait", method: http.MethodGet, target: "/v1/sessions/revocations?wait=-1", user: project, pass: secret, wantStatus: http.StatusBadRequest, wantType: "bad_request"},
		{name: "cursor not a number", method: http.MethodGet, target: "/v1/sessions/revocations?cursor=x&wait=30", user: project, pass: secret, wantStatus: http.StatusBadRequest, wantType: "invalid_cursor"},
		{name: "cursor not canonical", method: http.MethodGet, target: "/v1/sessions/revocations?cursor=007&wait=30", user: project, pass: secret, wantStatus: http.StatusBadRequest, wantType: "invalid_cursor"},
		{name: "no wait", method: http.MethodGet, target: "/v1/sessions/revocations?wait=0", user: project, pass: secret, wantStatus: http.StatusOK},
		{name: "another method", method: http.MethodPost, target: "/v1/sessions/revocations?wait=30", user: project, pass: secret, wantStatus: http.StatusMethodNotAllowed, wantType: "method_not_allowed"},
		{name: "another path", method: http.MethodGet, target: "/v1/sessions?wait=30", wantStatus: http.StatusUnauthorized, wantType: "unauthorized_credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.user != "" || tc.pass != "" {
				r.SetBasicAuth(tc.user, tc.pass)
			}
			rec := httptest.NewRecorder()
			hold := e.ServeFeedWait(rec, r)
			if hold != tc.wantHold {
				t.Fatalf("hold = %v, want %v (answer %d %s)", hold, tc.wantHold, rec.Code, rec.Body)
			}
			if hold {
				if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
					t.Errorf("a held read was answered: %v %s", rec.Header(), rec.Body)
				}
				return
			}
			// The answer ServeHTTP gives the same request.
			want := httptest.NewRecorder()
			e.ServeHTTP(want, r)
			if rec.Code != tc.wantStatus || want.Code != tc.wantStatus {
				t.Fatalf("status %d (ServeHTTP %d), want %d: %s", rec.Code, want.Code, tc.wantStatus, rec.Body)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "WWW-Authenticate", "Allow"} {
				if got, w := rec.Header().Get(h), want.Header().Get(h); got != w {
					t.Errorf("%s = %q, ServeHTTP gives %q", h, got, w)
				}
			}
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
			}
			if got, _ := out["error_type"].(string); got != tc.wantType {
				t.Errorf("error_type %q, want %q", got, tc.wantType)
			}
			if tc.wantStatus == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
		})
	}
}

// TestFeedResetsOnlyWhenEventsWereDropped: the triggers drop events two
// hours old when the next one is written. A reader caught up before such
// a quiet spell finds its own event gone and every later one kept: it
// missed nothing, so it must not be told to start over (a reset makes every
// verifier distrust every token issued before it, and refuse M2M tokens
// for up to an hour). A reader further behind, whose next event was
// dropped, is told to.
func TestFeedResetsOnlyWhenEventsWereDropped(t *testing.T) {
	h := newM2MEngine(t)
	deactivate := func() {
		c := h.ok(http.MethodPost, "/v1/m2m/clients", map[string]any{"scopes": []string{"read"}})["m2m_client"].(map[string]any)
		h.ok(http.MethodPut, "/v1/m2m/clients/"+c["client_id"].(string), map[string]any{"status": "inactive"})
	}
	read := func(cursor string) map[string]any {
		t.Helper()
		return h.ok(http.MethodGet, "/v1/sessions/revocations?cursor="+cursor, nil)
	}
	deactivate()
	behind := h.ok(http.MethodGet, "/v1/sessions/revocations", nil)["cursor"].(string)
	deactivate()
	caughtUp := read(behind)["cursor"].(string)
	h.clk.Advance(2*time.Hour + time.Second) // a quiet night
	deactivate()                             // drops both earlier events
	if got := read(caughtUp); got["reset"] != false || len(got["events"].([]any)) != 1 {
		t.Errorf("the caught-up reader after a quiet night: reset %v, events %v; want no reset and the new event", got["reset"], got["events"])
	}
	if got := read(behind); got["reset"] != true {
		t.Errorf("the reader whose next event was dropped: reset %v, want true", got["reset"])
	}
}
