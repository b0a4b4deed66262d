package wazerohost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// maxTarget bounds the request target (path and query) the host passes
// to the engine; a longer one gets 414. The request line and headers
// together are bounded by maxHeaderBytes (see server.go).
const maxTarget = 8 << 10

// ServeHTTP serves the API. A revocation feed read with wait > 0 that
// finds no event is held here, in the host, holding no guest instance,
// and asked again of a guest after each revoke (package feedwait), until
// an event comes or the wait passes. Config.RequestTimeout bounds each
// of those asks, not the wait (see RATIONALE.md, "Why does the host hold
// the feed's waiting reads?").
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// serveGuest hands the request to a guest instance and writes its answer.
// Bodies are read up to wire.MaxBody, one byte past the engine's limit, so
// the engine still sees an oversized body and answers 413.
func (s *Server) serveGuest(w http.ResponseWriter, r *http.Request) {
	target := r.URL.RequestURI()
	if len(r.RequestURI) > maxTarget || len(target) > maxTarget {
		s.fail(w, http.StatusRequestURITooLong, "uri_too_long", "The request URI is too long.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, wire.MaxBody))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "bad_request", "Could not read the request body.")
		return
	}
	header := r.Header.Clone()
	header.Set("Host", r.Host)
	if !fitsWire(header) {
		s.fail(w, http.StatusRequestHeaderFieldsTooLarge, "bad_request", "Too many or too long request headers.")
		return
	}
	frame := wire.AppendRequest(nil, &wire.Request{
		Method: r.Method, Target: target, RemoteAddr: r.RemoteAddr, Header: header, Body: body,
	})
	// The request runs to completion even if the client goes away, as the
	// engine's writes are not meant to be cut off half way; it is bounded
	// by the request timeout instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.timeout)
	defer cancel()
	answer, err := s.host.serve(ctx, frame)
	var resp *wire.Response
	if err == nil {
		resp, err = wire.ParseResponse(answer)
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "testharness: %s %s: %v\n", clip(r.Method), clip(r.URL.Path), err)
		switch {
		case errors.Is(err, errNoInstance):
			s.fail(w, http.StatusServiceUnavailable, "service_unavailable", "No engine instance became free in time; try again.")
		case errors.Is(err, errClosed):
			s.fail(w, http.StatusServiceUnavailable, "service_unavailable", "The server is closed.")
		case errors.Is(err, errGuestTimeout):
			s.fail(w, http.StatusGatewayTimeout, "gateway_timeout", "The engine did not answer in time.")
		default:
			s.fail(w, http.StatusInternalServerError, "internal_server_error", "An unexpected error occurred.")
		}
		return
	}
	for name, values := range resp.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

func fitsWire(h http.Header) bool {
	n := 0
	for name, values := range h {
		n += len(values)
		for _, v := range values {
			if len(name) > wire.MaxText || len(v) > wire.MaxText {
				return false
			}
		}
	}
	return n <= wire.MaxHeaders
}

// fail answers with a Stytch-shaped error for failures outside the engine.
func (s *Server) fail(w http.ResponseWriter, status int, errorType, message string) {
	engine.WriteError(w, engine.EnvOf(s.ProjectID), status, errorType, message)
}

// dispatch answers a frame from the guest: a SQL statement, a signing
// request, a message to deliver, a value to seal or open, word that
// sessions ended early, or an outbound request to make. Failures go
// back as Error frames with the message unchanged, so SQLite's "UNIQUE
// constraint failed: …" reaches the engine.
func (s *Server) dispatch(ctx context.Context, frame []byte) []byte {
	var answer []byte
	var err error
	switch wire.Kind(frame) {
	case "stmt":
		answer, err = s.runFrame(ctx, frame)
	case "sign":
		answer, err = s.signFrame(ctx, frame)
	case "mail":
		answer, err = s.mailFrame(ctx, frame)
	case "seal":
		answer, err = s.sealFrame(ctx, frame)
	case "open":
		answer, err = s.openFrame(ctx, frame)
	case "revoked":
		answer, err = s.revokedFrame(frame)
	case "fetch":
		answer, err = s.fetchFrame(ctx, frame)
	default:
		err = fmt.Errorf("testharness: unexpected frame from guest")
	}
	if err != nil {
		return wire.AppendError(nil, err.Error())
	}
	return answer
}

func (s *Server) runFrame(ctx context.Context, frame []byte) ([]byte, error) {
	st, err := wire.ParseStmt(frame)
	if err != nil {
		return nil, err
	}
	res, err := runStmt(ctx, s.db, st)
	if err != nil {
		return nil, err
	}
	return wire.AppendResult(nil, res)
}

func (s *Server) signFrame(ctx context.Context, frame []byte) ([]byte, error) {
	kid, input, err := wire.ParseSign(frame)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	signer := s.signers[kid]
	s.mu.RUnlock()
	if signer == nil {
		return nil, fmt.Errorf("testharness: no signing key %q", kid)
	}
	sig, err := signer.Sign(ctx, input)
	if err != nil {
		return nil, err
	}
	return wire.AppendSignature(nil, sig), nil
}

// revokedFrame wakes the feed reads held on the server's waiter and
// answers OK at once: the guest's engine waits for this answer, and the
// woken reads ask a guest of their own.
func (s *Server) revokedFrame(frame []byte) ([]byte, error) {
	if err := wire.ParseRevoked(frame); err != nil {
		return nil, err
	}
	s.waiter.Notify()
	return wire.AppendOK(nil), nil
}
