package guestbuild

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBuildCache(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "guest-stale.wasm")
	fresh := filepath.Join(dir, "guest-fresh.wasm")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, long, long)

	path, err := Build(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Build(t.Context(), dir)
	if err != nil || again != path {
		t.Fatalf("second build: %q, %v; want the cached %q", again, err, path)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale build kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("recent build removed: %v", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}
