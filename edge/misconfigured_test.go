package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMisconfigured(t *testing.T) {
	for _, c := range []struct {
		name       string
		m          misconfigured
		wantPrefix string
	}{
		{name: "test project", m: misconfigured{env: "test", reason: "LATCH_PROJECT_SECRET is not set"}, wantPrefix: "request-id-test-"},
		{name: "live project", m: misconfigured{env: "live", reason: "D1 binding DB is missing"}, wantPrefix: "request-id-live-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c.m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/sessions/authenticate", nil))
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["status_code"] != float64(500) || body["error_type"] != "internal_server_error" ||
				body["error_url"] != "https://stytch.com/docs/api/errors/500#internal_server_error" {
				t.Errorf("body %v", body)
			}
			msg, _ := body["error_message"].(string)
			if !strings.Contains(msg, "misconfigured") || !strings.Contains(msg, c.m.reason) {
				t.Errorf("error_message %q", msg)
			}
			if id, _ := body["request_id"].(string); !strings.HasPrefix(id, c.wantPrefix) || len(id) != len(c.wantPrefix)+36 {
				t.Errorf("request_id %q, want %s<uuid>", id, c.wantPrefix)
			}
		})
	}
}
