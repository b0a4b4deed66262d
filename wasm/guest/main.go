//go:build wasip1

//lint:file-ignore U1000 the exports are reached through //go:wasmexport, which staticcheck does not follow

// Command guest is the Latch engine built for wazero:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o latch.wasm ./wasm/guest
//
// The host instantiates it with the start function "_initialize", calls
// configure once, then handle once per HTTP request. The exports, the
// imports from module "latch" and the frames they carry are documented in
// package wasm/guest/wire. Clock and randomness are WASI's clock_time_get
// and random_get, so the host decides both (wazero's WithWalltime and
// WithRandSource).
//
// This file is the guest's only platform glue and the only place with
// package-level state: one engine and the buffers shared with the host,
// which the single-threaded guest touches only inside an export.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
	"unsafe"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/bridge"
	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/memhttp"
	"github.com/latchauth/latch/wasm/oauth"
)

func main() {}

var (
	in      = make([]byte, 4<<10) // written by the host, see buffer
	out     []byte                // the last answer, valid until the next call
	callOut = make([]byte, 64<<10)
	db      *sql.DB
	eng     http.Handler
)

//go:wasmimport latch call
func hostCall(in unsafe.Pointer, inLen uint32, out unsafe.Pointer, outCap uint32) uint32

//go:wasmimport latch result
func hostResult(out unsafe.Pointer, outCap uint32) uint32

// buffer makes the input buffer at least size bytes and returns its address.
//
//go:wasmexport buffer
func buffer(size uint32) uint32 {
	if size > wire.MaxFrame {
		return 0
	}
	if int(size) > len(in) {
		in = make([]byte, size)
	}
	return uint32(uintptr(unsafe.Pointer(&in[0])))
}

// configure builds the engine from the Config frame in the first n bytes
// of the input buffer. It may be called again, for example after the host
// rotated its keys.
//
//go:wasmexport configure
func configure(n uint32) uint64 {
	if err := setup(n); err != nil {
		return answer(wire.AppendError(out[:0], err.Error()))
	}
	return answer(wire.AppendOK(out[:0]))
}

func setup(n uint32) error {
	if int(n) > len(in) {
		return fmt.Errorf("guest: configure: %d bytes, buffer has %d", n, len(in))
	}
	c, err := wire.ParseConfig(in[:n])
	if err != nil {
		return err
	}
	public := make([]engine.PublicKey, len(c.PublicKeys))
	for i, k := range c.PublicKeys {
		public[i] = engine.PublicKey{KID: k.KID, N: k.N, E: k.E, RetiredAt: k.RetiredAt}
	}
	signer, err := bridge.NewSigner(call, c.KeyID, public)
	if err != nil {
		return err
	}
	if db == nil {
		db = sql.OpenDB(bridge.Connector(call))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := engine.Config{
		ProjectID: c.ProjectID,
		Secret:    c.Secret,
		DB:        db,
		Signer:    signer,
		// Wall clock only: the host's walltime is the one source of time,
		// so a host that moves its clock moves the engine's.
		Now:          func() time.Time { return time.Now().Round(0) },
		Logger:       logger,
		MailFrom:     c.MailFrom,
		ProjectName:  c.ProjectName,
		RedirectURLs: c.RedirectURLs,
		// The host holds waiting feed reads; the guest tells it when
		// sessions end early, and the host answers at once.
		Revoked:     bridge.NewRevoked(call, logger),
		PublicToken: c.PublicToken,
		BaseURL:     c.BaseURL,
		// Passkey ceremonies need nothing of the host but the allow-list.
		WebAuthnOrigins: c.WebAuthnOrigins,
	}
	if c.Mail {
		// The host carries the mail; the guest knows only that it can.
		cfg.Mailer = bridge.NewMailer(call)
	}
	if c.SecretBox {
		// The host holds the key; the guest asks it to seal and open.
		cfg.SecretBox = bridge.NewSecretBox(call)
	}
	if c.Fetch {
		// The host makes the requests; the guest asks it to.
		cfg.Fetcher = bridge.NewFetcher(call)
	}
	if cfg.OAuthProviders, err = oauth.ParseProviders(c.OAuthProviders); err != nil {
		return err
	}
	if len(c.MailTemplates) > 0 {
		cfg.MailTemplates = make(map[string]engine.MailTemplate, len(c.MailTemplates))
		for _, t := range c.MailTemplates {
			cfg.MailTemplates[t.Kind] = engine.MailTemplate{Subject: t.Subject, Text: t.Text, HTML: t.HTML}
		}
	}
	e, err := engine.New(cfg)
	if err != nil {
		return err
	}
	eng = e
	return nil
}

// handle serves the Request frame in the first n bytes of the input buffer
// and answers with a Response frame, or an Error frame when the request
// cannot be served at all.
//
//go:wasmexport handle
func handle(n uint32) (packed uint64) {
	defer func() {
		if p := recover(); p != nil {
			packed = answer(wire.AppendError(out[:0], fmt.Sprintf("guest: panic: %v", p)))
		}
	}()
	resp, err := serve(n)
	if err != nil {
		return answer(wire.AppendError(out[:0], err.Error()))
	}
	return answer(wire.AppendResponse(out[:0], resp))
}

func serve(n uint32) (*wire.Response, error) {
	if eng == nil {
		return nil, fmt.Errorf("guest: not configured")
	}
	if int(n) > len(in) {
		return nil, fmt.Errorf("guest: handle: %d bytes, buffer has %d", n, len(in))
	}
	q, err := wire.ParseRequest(in[:n])
	if err != nil {
		return nil, err
	}
	req, err := memhttp.NewRequest(context.Background(), q.Method, q.Target, q.Header, q.Body, q.RemoteAddr)
	if err != nil {
		return nil, err
	}
	req.RequestURI = q.Target
	w := memhttp.NewRecorder()
	eng.ServeHTTP(w, req)
	status, header, body := w.Result()
	if len(body) > wire.MaxFrame/2 {
		return nil, fmt.Errorf("guest: response body of %d bytes is too large", len(body))
	}
	return &wire.Response{Status: status, Header: header, Body: body}, nil
}

// answer keeps frame alive as out and packs its address and length.
func answer(frame []byte) uint64 {
	out = frame
	if len(out) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}

// call hands a frame to the host and returns its answer (see package wire).
func call(_ context.Context, frame []byte) ([]byte, error) {
	n := hostCall(unsafe.Pointer(unsafe.SliceData(frame)), uint32(len(frame)), unsafe.Pointer(&callOut[0]), uint32(len(callOut)))
	if int(n) <= len(callOut) {
		return bytes.Clone(callOut[:n]), nil
	}
	if n > wire.MaxFrame {
		return nil, fmt.Errorf("guest: host answer of %d bytes is too large", n)
	}
	buf := make([]byte, n)
	if got := hostResult(unsafe.Pointer(&buf[0]), n); got != n {
		return nil, fmt.Errorf("guest: host answer: got %d of %d bytes", got, n)
	}
	return buf, nil
}
