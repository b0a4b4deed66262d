package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
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
			var log bytes.Buffer
			c.m.logger = slog.New(slog.NewTextHandler(&log, nil))
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
			if msg, _ := body["error_message"].(string); msg != errorUnexpected {
				t.Errorf("error_message %q, want the generic %q", msg, errorUnexpected)
			}
			if raw := rec.Body.String(); strings.Contains(raw, "LATCH_") || strings.Contains(raw, "D1") || strings.Contains(raw, "misconfigured") {
				t.Errorf("answer tells the caller what is misconfigured: %s", raw)
			}
			if !strings.Contains(log.String(), "misconfigured") || !strings.Contains(log.String(), c.m.reason) {
				t.Errorf("log %q does not name the reason %q", log.String(), c.m.reason)
			}
			if id, _ := body["request_id"].(string); !strings.HasPrefix(id, c.wantPrefix) || len(id) != len(c.wantPrefix)+36 {
				t.Errorf("request_id %q, want %s<uuid>", id, c.wantPrefix)
			}
		})
	}
}
