// Package guestbuild builds the wasip1 guest (wasm/guest) from the
// module's sources with the Go toolchain, caching each build by what it
// was built from. testharness builds its default guest with it, so that a
// test sees an edit to the engine at once; the tests of the wazero host
// and latch-local's check of its embedded guest use it too. It runs the go
// command, so no command links it. See RATIONALE.md, "Why does the
// harness build the guest on demand?".
package guestbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// guestPackage is the wasip1 entry point built for the host.
const guestPackage = "github.com/latchauth/latch/wasm/guest"

// CacheDir returns dir, or os.UserCacheDir()/latch when dir is empty: the
// default of testharness.Config.CacheDir. Builds go in its "guest"
// directory.
func CacheDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "latch"), nil
}

// Build returns the path of a wasip1 build of the guest that matches the
// current sources, building it with the Go toolchain when the cache under
// dir has none.
//
// The cache key hashes the Go version and the contents of every non-standard
// package the guest depends on (as `go list -deps` reports them for
// GOOS=wasip1), so an edit to the engine yields a new build and an unchanged
// tree reuses the old one without running the linker. Test binaries that
// build at the same time each write a temporary file and rename it into
// place; the rename is atomic and both files are the same build.
func Build(ctx context.Context, dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("testharness: the Go toolchain is needed to build the guest (or set Config.WasmPath): %w", err)
	}
	key, err := guestKey(ctx, goTool)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "guest-"+key+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testharness: guest cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "guest-*.tmp")
	if err != nil {
		return "", fmt.Errorf("testharness: guest cache: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, goTool, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp.Name(), guestPackage)
	cmd.Env = guestEnv()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testharness: build guest: %w\n%s", err, msg)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("testharness: guest cache: %w", err)
	}
	pruneGuests(dir, out)
	return out, nil
}

// pruneGuests removes builds other than keep that are over an hour old, so
// the cache does not grow with every edit. A process still starting from an
// old build has read it long before.
func pruneGuests(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "guest-*.wasm"))
	for _, path := range old {
		if fi, err := os.Stat(path); err == nil && path != keep && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(path)
		}
	}
}

func guestEnv() []string {
	return append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
}

// guestKey hashes what the guest build depends on.
func guestKey(ctx context.Context, goTool string) (string, error) {
	const format = `{{if not .Standard}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{"\n"}}{{end}}`
	cmd := exec.CommandContext(ctx, goTool, "list", "-deps", "-f", format, guestPackage)
	cmd.Env = guestEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	listing, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("testharness: list guest sources: %w\n%s", err, stderr.Bytes())
	}
	version, err := exec.CommandContext(ctx, goTool, "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("testharness: go env: %w", err)
	}
	h := sha256.New()
	h.Write(version)
	for line := range strings.Lines(string(listing)) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) < 2 {
			continue
		}
		dir := parts[0]
		for _, name := range parts[1:] {
			if err := hashFile(h, filepath.Join(dir, name)); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("testharness: hash guest source: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(h, "%s\x00", path)
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("testharness: hash guest source: %w", err)
	}
	_, err = h.Write([]byte{0})
	return err
}
