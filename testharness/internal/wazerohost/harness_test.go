package wazerohost

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	_ "github.com/ncruces/go-sqlite3/vfs/memdb" // the in-memory store of Config{}

	"github.com/latchauth/latch/testharness/internal/guestbuild"
)

// newServer is New with the guest built from the module's current sources
// when cfg names none, as testharness.New does: these tests see the
// engine as it is now.
func newServer(cfg Config) (*Server, error) {
	if len(cfg.Wasm) == 0 && cfg.WasmPath == "" {
		dir, err := guestbuild.CacheDir(cfg.CacheDir)
		if err != nil {
			return nil, err
		}
		path, err := guestbuild.Build(context.Background(), filepath.Join(dir, "guest"))
		if err != nil {
			return nil, err
		}
		cfg.WasmPath = path
	}
	return New(cfg)
}

// start is testharness.Start: a Server with the zero Config, closed when t
// ends.
func start(t testing.TB) *Server {
	t.Helper()
	s, err := newServer(Config{})
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

func TestNewNeedsAGuest(t *testing.T) {
	s, err := New(Config{})
	if !errors.Is(err, ErrConfig) || s != nil {
		t.Fatalf("New without a guest = %v, %v; want ErrConfig", s, err)
	}
}
