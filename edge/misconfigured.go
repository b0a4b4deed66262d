package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// misconfigured answers every request with a Stytch-shaped 500: a Worker
// whose settings are missing or broken stays up instead of crashing on each
// request. reason names the setting at fault, never its value; it goes to
// the Worker's log with every request, and never to the caller, who is not
// told which setting is missing. See RATIONALE.md, "How does the Worker read
// its config?".
type misconfigured struct {
	env    string
	reason string
	logger *slog.Logger
}

// errorUnexpected is the message of every 500 the Worker makes itself.
const errorUnexpected = "An unexpected error occurred."

func (m misconfigured) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.logger != nil {
		m.logger.Error("edge: worker misconfigured", "reason", m.reason, "method", r.Method, "path", r.URL.Path)
	}
	writeInternalError(w, m.env, errorUnexpected)
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
