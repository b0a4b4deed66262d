package main

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
)

//go:generate go test -run ^TestEmbeddedGuestCurrent$ -count=1 . -update

// guestGzip is the guest latch-local serves unless -wasm names another:
// the wasip1 build of wasm/guest (GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared -trimpath, as testharness builds it), gzip
// -compressed, with the Go version that built it as the gzip comment.
// TestEmbeddedGuestCurrent fails when the sources build another guest;
// `make guest` rewrites it. Embedding it is what lets an installed
// latch-local run anywhere, without the Go toolchain or the module's
// sources (RATIONALE.md, "Why does the harness build the guest on
// demand?").
//
//go:embed guest.wasm.gz
var guestGzip []byte

// embeddedGuest returns the embedded guest, uncompressed.
func embeddedGuest() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(guestGzip))
	if err != nil {
		return nil, fmt.Errorf("embedded guest: %w", err)
	}
	wasm, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("embedded guest: %w", err)
	}
	return wasm, nil
}
