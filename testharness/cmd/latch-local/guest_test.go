package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/latchauth/latch/testharness/internal/guestbuild"
)

var update = flag.Bool("update", false, "rewrite guest.wasm.gz from the current sources (make guest)")

// TestEmbeddedGuestCurrent checks that guest.wasm.gz holds the guest the
// module's current sources build, byte for byte: the build testharness
// runs (guestbuild, -trimpath, so the same sources and Go give the same
// bytes). With -update it rewrites the file instead.
func TestEmbeddedGuestCurrent(t *testing.T) {
	dir, err := guestbuild.CacheDir("")
	if err != nil {
		t.Fatal(err)
	}
	path, err := guestbuild.Build(t.Context(), filepath.Join(dir, "guest"))
	if err != nil {
		t.Fatal(err)
	}
	built, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		writeGuest(t, "guest.wasm.gz", built)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(guestGzip))
	if err != nil {
		t.Fatalf("guest.wasm.gz: %v; regenerate it with `make guest`", err)
	}
	if zr.Comment != runtime.Version() {
		t.Skipf("guest.wasm.gz was built by %s and this is %s: another Go builds other bytes, so it cannot be compared here (`make guest` with %s would embed that one)", zr.Comment, runtime.Version(), runtime.Version())
	}
	embedded, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("guest.wasm.gz: %v; regenerate it with `make guest`", err)
	}
	if !bytes.Equal(embedded, built) {
		t.Fatalf("guest.wasm.gz (%d bytes) is not the guest the current sources build (%d bytes): regenerate it with `make guest` (go generate ./testharness/cmd/latch-local) and commit it", len(embedded), len(built))
	}
}

// writeGuest writes wasm to path, gzip-compressed at level 9 with no name
// and no time in the header, so that the same guest gives the same file,
// and the Go version in its comment.
func writeGuest(t *testing.T, path string, wasm []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Comment = runtime.Version()
	if _, err := zw.Write(wasm); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d bytes (%d uncompressed)", path, buf.Len(), len(wasm))
}
