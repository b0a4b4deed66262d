package main

import (
	"log/slog"
	"net/http"

	"github.com/latchauth/latch/wasm/engine"
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
	engine.WriteError(w, m.env, http.StatusInternalServerError, "internal_server_error", errorUnexpected)
}
