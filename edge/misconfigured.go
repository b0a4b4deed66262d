package main

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// misconfigured answers every request with a Stytch-shaped 500 saying the
// Worker cannot serve: a Worker whose settings are missing or broken stays up
// and says so instead of crashing on each request. reason names the setting
// at fault, never its value.
type misconfigured struct {
	env    string
	reason string
}

func (m misconfigured) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	writeInternalError(w, m.env, "The Latch Worker is misconfigured: "+m.reason+". See the Worker's logs.")
}

// writeInternalError writes a Stytch-shaped internal_server_error.
func writeInternalError(w http.ResponseWriter, env, message string) {
	body, _ := json.Marshal(map[string]any{
		"status_code":   http.StatusInternalServerError,
		"request_id":    "request-id-" + env + "-" + uuid.NewString(),
		"error_type":    "internal_server_error",
		"error_message": message,
		"error_url":     "https://stytch.com/docs/api/errors/500#internal_server_error",
	})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(body)
}
