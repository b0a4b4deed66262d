package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/keys"
)

// TestLoadSecretKey creates the key file once, 0600, and reads the same
// key back on the next run: a value sealed under the first run's key
// opens under the second's.
func TestLoadSecretKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret-box.key")
	first, err := loadSecretKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != keys.SecretKeySize {
		t.Fatalf("key file: mode %v, %d bytes; want 0600, %d", fi.Mode().Perm(), fi.Size(), keys.SecretKeySize)
	}
	second, err := loadSecretKey(path)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second run: %v; same key %v", err, bytes.Equal(first, second))
	}
	ctx := context.Background()
	box1, _ := keys.NewSecretBox(first, rand.Reader)
	box2, _ := keys.NewSecretBox(second, rand.Reader)
	sealed, err := box1.Seal(ctx, []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := box2.Open(ctx, sealed); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("sealed in run 1, opened in run 2: %q, %v", got, err)
	}
	if other, _ := loadSecretKey(filepath.Join(t.TempDir(), "secret-box.key")); bytes.Equal(other, first) {
		t.Fatal("two fresh directories got the same key")
	}
}

// TestSecretKeyWrongSize refuses a key file of the wrong size, says which
// file and why, and leaves it as it was.
func TestSecretKeyWrongSize(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int
		want string
	}{
		{name: "empty", size: 0, want: "0 bytes, want a key of 32 random bytes"},
		{name: "one short", size: keys.SecretKeySize - 1, want: "31 bytes, want a key of 32 random bytes"},
		{name: "hex of a key", size: 2 * keys.SecretKeySize, want: "64 bytes, want a key of 32 random bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret-box.key")
			content := bytes.Repeat([]byte{7}, tt.size)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			key, err := loadSecretKey(path)
			if err == nil || key != nil || !strings.Contains(err.Error(), path+": "+tt.want) {
				t.Fatalf("loadSecretKey = %x, %v; want %q", key, err, tt.want)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
				t.Fatal("the file was changed")
			}
		})
	}
}

// TestRunSecretKeyWrongSize: run stops with the file's name and exits 1
// before serving.
func TestRunSecretKeyWrongSize(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret-box.key"), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off"}, &stdout, &stderr); code != 1 {
		t.Fatalf("run = %d, want 1; stderr: %s", code, stderr.String())
	}
	if want := "secret-box.key: 5 bytes, want a key of 32 random bytes"; !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr %q does not say %q", stderr.String(), want)
	}
}
