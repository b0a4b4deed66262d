//go:build !js

package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/keys"
)

// TestSecretBoxAcrossHosts checks that the Worker's WebCrypto box and the
// Go box (keys.SecretBox) under the same LATCH_SECRET_BOX_KEY read each
// other's values: the secret and recovery codes of a TOTP enrolled through
// the Worker, read from its D1 database, open in Go; and a secret sealed in
// Go and written into the database is the one the Worker checks codes
// against. Under a changed key, the TOTP no longer opens.
func TestSecretBoxAcrossHosts(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	box, err := keys.NewSecretBox(w.SecretBoxKey, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	user := a.must(http.MethodPost, "/v1/users", map[string]any{"email": "box@example.com"})
	userID, _ := user["user_id"].(string)
	enrolled := a.must(http.MethodPost, "/v1/totps", map[string]any{"user_id": userID})
	totpID, _ := enrolled["totp_id"].(string)
	secret, err := base32NoPad.DecodeString(fmt.Sprint(enrolled["secret"]))
	if err != nil {
		t.Fatalf("secret %v: %v", enrolled["secret"], err)
	}
	var codes []string
	for _, c := range enrolled["recovery_codes"].([]any) {
		codes = append(codes, c.(string))
	}

	rows, err := w.QueryD1(ctx, fmt.Sprintf("SELECT secret_sealed, codes_sealed FROM totps WHERE totp_id = '%s'", totpID))
	if err != nil || len(rows) != 1 {
		t.Fatalf("totps row of %s: %v %v", totpID, rows, err)
	}
	sealed := openColumn(t, box, rows[0]["secret_sealed"])
	if !bytes.Equal(sealed, secret) {
		t.Errorf("the Worker's sealed secret opens in Go to %x, want %x", sealed, secret)
	}
	var opened []string
	if err := json.Unmarshal(openColumn(t, box, rows[0]["codes_sealed"]), &opened); err != nil || !slices.Equal(opened, codes) {
		t.Errorf("the Worker's sealed recovery codes open in Go to %v (%v), want %v", opened, err, codes)
	}

	mine := make([]byte, len(secret))
	if _, err := rand.Read(mine); err != nil {
		t.Fatal(err)
	}
	resealed, err := box.Seal(ctx, mine)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.QueryD1(ctx, fmt.Sprintf("UPDATE totps SET secret_sealed = '%s' WHERE totp_id = '%s'",
		base64.StdEncoding.EncodeToString(resealed), totpID)); err != nil {
		t.Fatal(err)
	}
	got := a.must(http.MethodPost, "/v1/totps/authenticate", map[string]any{
		"user_id": userID, "totp_code": totpCode(mine, time.Now()), "session_duration_minutes": 30})
	if got["totp_id"] != totpID {
		t.Errorf("authenticate with the Go-sealed secret: %v", got)
	}

	// Under another key the secret no longer opens: TOTP codes fail (a
	// generic 500), while recovery codes, checked by an HMAC, still let
	// the user in to delete the TOTP and enrol again (edge/README.md, "The
	// secret box key").
	if w.SecretBoxKey, err = keys.NewSecretKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(ctx, w.Keys); err != nil {
		t.Fatal(err)
	}
	status, out := a.call(http.MethodPost, "/v1/totps/authenticate", map[string]any{
		"user_id": userID, "totp_code": totpCode(mine, time.Now().Add(30*time.Second))}, true)
	if status != http.StatusInternalServerError || out["error_type"] != "internal_server_error" {
		t.Errorf("authenticate under a changed key: %d %v, want 500 internal_server_error", status, out)
	}
	a.must(http.MethodPost, "/v1/totps/recover", map[string]any{"user_id": userID, "recovery_code": codes[0]})
}

// TestWorkerWithoutSecretBox checks that a Worker without
// LATCH_SECRET_BOX_KEY runs, but without TOTP.
func TestWorkerWithoutSecretBox(t *testing.T) {
	t.Parallel()
	vars, _, err := freshVars()
	if err != nil {
		t.Fatal(err)
	}
	delete(vars, secretBoxVar)
	w := Start(t, Options{Vars: vars})
	a := newAPI(t, w.Target)
	user := a.must(http.MethodPost, "/v1/users", map[string]any{"email": "nobox@example.com"})
	status, out := a.call(http.MethodPost, "/v1/totps", map[string]any{"user_id": user["user_id"]}, true)
	if status != http.StatusServiceUnavailable || out["error_type"] != "totp_unavailable" {
		t.Errorf("enrol without a secret box: %d %v, want 503 totp_unavailable", status, out)
	}
}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// openColumn opens a sealed column (standard base64) with box.
func openColumn(t *testing.T, box *keys.SecretBox, col any) []byte {
	t.Helper()
	s, _ := col.(string)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("sealed column %q: %v", s, err)
	}
	out, err := box.Open(context.Background(), raw)
	if err != nil {
		t.Fatalf("the Worker's sealed value does not open in Go: %v", err)
	}
	return out
}

// totpCode is the RFC 6238 code (SHA-1, six digits, 30 s) of secret at.
func totpCode(secret []byte, at time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}
