package wazerohost

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/guest/bridge"
	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/keys"
)

// frameLog is a Call into s that keeps every frame sent and answered.
type frameLog struct {
	s      *Server
	frames [][]byte
}

func (l *frameLog) call(ctx context.Context, frame []byte) ([]byte, error) {
	answer := l.s.dispatch(ctx, frame)
	l.frames = append(l.frames, bytes.Clone(frame), bytes.Clone(answer))
	return answer, nil
}

// boxed returns a bridged Server whose host box has key.
func boxed(t *testing.T, key []byte) *Server {
	t.Helper()
	s, _ := bridged(t)
	box, err := secretBox(&Config{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	s.box = box
	// As in New, the Config frame is made after the box.
	if err := s.SetKeys(s.Keys()); err != nil {
		t.Fatal(err)
	}
	return s
}

func secretKey(t *testing.T) []byte {
	t.Helper()
	k, err := keys.NewSecretKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestBridgeSecretBox seals and opens through the guest's side of the
// secret box frames into the host's real box: what the guest seals opens,
// with the host's key and no other; a tampered, truncated or foreign value
// is refused; and no frame either way carries the key, only the plaintext
// or the sealed value.
func TestBridgeSecretBox(t *testing.T) {
	ctx := context.Background()
	key := secretKey(t)
	s := boxed(t, key)
	log := &frameLog{s: s}
	guest := bridge.NewSecretBox(log.call)
	secret := []byte("JBSWY3DPEHPK3PXP")

	sealed, err := guest.Seal(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatalf("sealed value %x shows the plaintext", sealed)
	}
	opened, err := guest.Open(ctx, sealed)
	if err != nil || !bytes.Equal(opened, secret) {
		t.Fatalf("Open = %q, %v; want %q", opened, err, secret)
	}
	// The host sealed with its key: a box of its own over the same key
	// opens the value.
	own, _ := keys.NewSecretBox(key, rand.Reader)
	if got, err := own.Open(ctx, sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("the key's own box: %q, %v", got, err)
	}

	wantFrames := [][]byte{
		wire.AppendSeal(nil, secret), wire.AppendSealed(nil, sealed),
		wire.AppendOpen(nil, sealed), wire.AppendOpened(nil, secret),
	}
	if len(log.frames) != len(wantFrames) {
		t.Fatalf("%d frames, want %d", len(log.frames), len(wantFrames))
	}
	for i, f := range log.frames {
		if !bytes.Equal(f, wantFrames[i]) {
			t.Errorf("frame %d = %x, want %x", i, f, wantFrames[i])
		}
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	flipped := bytes.Clone(sealed)
	flipped[20] ^= 0x80
	foreign, _ := keys.NewSecretBox(secretKey(t), rand.Reader)
	other, _ := foreign.Seal(ctx, secret)
	for _, tt := range []struct {
		name   string
		sealed []byte
	}{
		{name: "tag tampered", sealed: tampered},
		{name: "ciphertext tampered", sealed: flipped},
		{name: "truncated", sealed: sealed[:len(sealed)-1]},
		{name: "nonce only", sealed: sealed[:13]},
		{name: "empty", sealed: nil},
		{name: "another key's", sealed: other},
		{name: "the plaintext", sealed: secret},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := guest.Open(ctx, tt.sealed)
			var remote *wire.RemoteError
			if !errors.As(err, &remote) || remote.Message != keys.ErrSealed.Error() || got != nil {
				t.Fatalf("Open = %q, %v; want the host's %q", got, err, keys.ErrSealed)
			}
		})
	}

	frame, _ := s.guestConfig()
	c, err := wire.ParseConfig(frame)
	if err != nil || !c.SecretBox {
		t.Errorf("Config frame: SecretBox %v, %v; want on", c != nil && c.SecretBox, err)
	}
	for i, f := range append(log.frames, frame) {
		if bytes.Contains(f, key) {
			t.Errorf("frame %d carries the host's key", i)
		}
	}
}

// TestBridgeSecretBoxLimits checks that oversized values stop at the
// guest's side and at the host's parser alike, and that a host without a
// box says so.
func TestBridgeSecretBoxLimits(t *testing.T) {
	ctx := context.Background()
	s := boxed(t, secretKey(t))
	guest := bridge.NewSecretBox(s.call)
	largest, err := guest.Seal(ctx, make([]byte, wire.MaxPlaintext))
	if err != nil || len(largest) > wire.MaxSealed {
		t.Fatalf("largest plaintext: %d bytes sealed, %v; want at most %d", len(largest), err, wire.MaxSealed)
	}
	if _, err := guest.Open(ctx, largest); err != nil {
		t.Fatalf("open the largest: %v", err)
	}
	if _, err := guest.Seal(ctx, make([]byte, wire.MaxPlaintext+1)); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("guest seal over MaxPlaintext: err = %v, want ErrTooLarge", err)
	}
	if _, err := guest.Open(ctx, make([]byte, wire.MaxSealed+1)); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("guest open over MaxSealed: err = %v, want ErrTooLarge", err)
	}
	for name, frame := range map[string][]byte{
		"seal":        wire.AppendSeal(nil, make([]byte, wire.MaxPlaintext+1)),
		"open":        wire.AppendOpen(nil, make([]byte, wire.MaxSealed+1)),
		"seal, short": {'B', 9, 0, 0, 0},
	} {
		err := wire.ParseOK(s.dispatch(ctx, frame))
		var remote *wire.RemoteError
		if !errors.As(err, &remote) || !strings.Contains(remote.Message, "wire:") {
			t.Errorf("%s: host answered %v, want its parser's error", name, err)
		}
	}

	s.box = nil
	if _, err := guest.Seal(ctx, []byte("x")); err == nil || !strings.Contains(err.Error(), "no secret box") {
		t.Errorf("no box, seal: err = %v", err)
	}
	if _, err := guest.Open(ctx, largest); err == nil || !strings.Contains(err.Error(), "no secret box") {
		t.Errorf("no box, open: err = %v", err)
	}
}

// TestSecretBoxAcrossRestart seals on one server and opens on the next
// given the same SecretKey, as a file-backed server after a restart; a
// server with a fresh key refuses the value.
func TestSecretBoxAcrossRestart(t *testing.T) {
	ctx := context.Background()
	key := secretKey(t)
	sealed, err := bridge.NewSecretBox(boxed(t, key).call).Seal(ctx, []byte("recovery-code-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := bridge.NewSecretBox(boxed(t, bytes.Clone(key)).call).Open(ctx, sealed)
	if err != nil || string(got) != "recovery-code-1" {
		t.Fatalf("same key after restart: %q, %v", got, err)
	}
	if _, err := bridge.NewSecretBox(boxed(t, secretKey(t)).call).Open(ctx, sealed); err == nil {
		t.Fatal("a server with another key opened the value")
	}
	var generated Config
	if _, err := secretBox(&generated); err != nil || len(generated.SecretKey) != keys.SecretKeySize {
		t.Fatalf("no SecretKey: generated %d bytes, %v", len(generated.SecretKey), err)
	}
}
