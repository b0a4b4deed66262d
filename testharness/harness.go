package testharness

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	_ "github.com/ncruces/go-sqlite3/vfs/memdb" // Config.DBPath "": the in-memory store

	"github.com/latchauth/latch/testharness/internal/guestbuild"
	"github.com/latchauth/latch/testharness/internal/wazerohost"
)

// Config configures a Server; see the package documentation for what each
// capability is. The zero value is ready to use: a new test project with
// generated credentials and key, an in-memory store, the real clock, the
// guest built from the module's current sources (Config.Wasm and
// Config.WasmPath take a prebuilt one). Config.SDKOrigins also serves the
// surface Stytch's frontend SDKs call (/sdk/v1/...) to pages on those
// origins, under a public token generated when Config.PublicToken is
// empty. Config.OAuthProviders (the providers document, JSON) turns on
// social login: the host makes the engine's requests to the providers,
// and the engine names Config.BaseURL (the server's URL when empty) +
// "/v1/oauth/callback" as its callback. Its fields are documented in
// testharness/internal/wazerohost, the host that latch-local links too.
type Config = wazerohost.Config

// Server is a running Latch: the wasip1 engine under wazero, serving the
// API over HTTP on loopback, like httptest.Server. URL, ProjectID and
// Secret say where and as whom to call it, PublicToken what the frontend
// SDK is given and the OAuth start URLs carry (with Config.SDKOrigins or
// Config.OAuthProviders), LoginURL where the hosted login
// page is (with Config.LoginPage); JWKSURL, Now, Advance, Keys, SetKeys,
// RotateKey and Close are its methods, documented in
// testharness/internal/wazerohost.
type Server = wazerohost.Server

// ErrConfig is wrapped by every error about an invalid Config or key set.
var ErrConfig = wazerohost.ErrConfig

// Start starts a Server with the zero Config and closes it when t ends.
// It calls t.Fatal if the server cannot start.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("testharness: close: %v", err)
		}
	})
	return s
}

// New starts a Server. Close it when done. Without a prebuilt guest
// (Config.Wasm, Config.WasmPath) it builds one from the module's sources
// first, or reuses the build cached under Config.CacheDir for the same
// sources.
func New(cfg Config) (*Server, error) {
	if len(cfg.Wasm) == 0 && cfg.WasmPath == "" {
		dir, err := guestbuild.CacheDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("%w: no CacheDir and no user cache dir: %w", ErrConfig, err)
		}
		cfg.CacheDir = dir
		if cfg.WasmPath, err = guestbuild.Build(context.Background(), filepath.Join(dir, "guest")); err != nil {
			return nil, err
		}
	}
	return wazerohost.New(cfg)
}
