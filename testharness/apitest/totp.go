package apitest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
)

// TOTP computes the RFC 6238 code (SHA-1, 6 digits, 30-second steps) of
// a base32 secret, as the API's totps endpoints return it, at Unix time
// at, independently of the engine. It fails tb when secret is not base32.
func TOTP(tb testing.TB, secret string, at int64) string {
	tb.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		tb.Fatalf("apitest: secret %q is not base32: %v", secret, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[19] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}
