package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

const maxBodyBytes = 1 << 20

// call is one API request on its way through the engine.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	requestID string
}

// reply writes a success body: fields plus the status_code/request_id envelope.
func (c *call) reply(fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["status_code"] = http.StatusOK
	fields["request_id"] = c.requestID
	c.writeJSON(http.StatusOK, fields)
}

// replyWith writes a success body the handler built itself, as a struct
// that carries the status_code/request_id envelope among its fields.
func (c *call) replyWith(body any) {
	c.writeJSON(http.StatusOK, body)
}

func (c *call) fail(e *apiError) {
	writeJSON(c.w, e.status, errorBody(e.status, c.requestID, e.typ, e.message))
}

// errorBody is the Stytch error envelope.
func errorBody(status int, requestID, errorType, message string) map[string]any {
	return map[string]any{
		"status_code":   status,
		"request_id":    requestID,
		"error_type":    errorType,
		"error_message": message,
		"error_url":     "https://stytch.com/docs/api/errors/" + strconv.Itoa(status) + "#" + errorType,
	}
}

// WriteError answers a request in the engine's error shape, for a host
// that answers it itself: before the engine sees it (a target too long for
// the host, no instance free in time) or instead of it (a Worker whose
// settings are broken). The request id is new, of the project's env
// (EnvOf). message is shown to the caller: it must hold no secret.
func WriteError(w http.ResponseWriter, env string, status int, errorType, message string) {
	writeJSON(w, status, errorBody(status, "request-id-"+env+"-"+uuid.NewString(), errorType, message))
}

func (c *call) writeJSON(status int, v any) { writeJSON(c.w, status, v) }

// writeJSON writes v as the JSON body of an answer that is never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"status_code":500,"error_type":"internal_server_error","error_message":"An unexpected error occurred."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decode reads the JSON body into dst, matching member names exactly
// (decodeExact). An empty body decodes as {}. Oversized bodies, malformed
// JSON, members named twice and wrong field types are client errors.
// request is a handler's typed request body. validate checks its fields
// before the handler reads or writes anything, in the order their errors
// are answered; e gives it what a check needs of the engine (the ID
// prefix of its environment, its configured capabilities).
type request interface {
	validate(e *Engine) error
}

// read is the first step of every handler that takes a typed request:
// it decodes the body into a, as decode does, then validates it.
func (e *Engine) read(c *call, a request) error {
	if err := c.decode(a); err != nil {
		return err
	}
	return a.validate(e)
}

func (c *call) decode(dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errTooLarge
		}
		return badRequest("Could not read the request body.")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		return badRequest("The request body must be a JSON object.")
	}
	if !json.Valid(body) {
		return badRequest("The request body is not valid JSON.")
	}
	return decodeExact(body, dst)
}
