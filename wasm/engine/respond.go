package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
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
	c.writeJSON(e.status, map[string]any{
		"status_code":   e.status,
		"request_id":    c.requestID,
		"error_type":    e.typ,
		"error_message": e.message,
		"error_url":     "https://stytch.com/docs/api/errors/" + strconv.Itoa(e.status) + "#" + e.typ,
	})
}

func (c *call) writeJSON(status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"status_code":500,"error_type":"internal_server_error","error_message":"An unexpected error occurred."}`)
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// decode reads the JSON body into dst, matching member names exactly
// (decodeExact). An empty body decodes as {}. Oversized bodies, malformed
// JSON, members named twice and wrong field types are client errors.
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
