package verifier

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestDecodeSegment(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" with ok false means rejected
		ok   bool
	}{
		{name: "empty", in: "", want: "", ok: true},
		{name: "one byte", in: "_w", want: "\xff", ok: true},
		{name: "two bytes", in: "__8", want: "\xff\xff", ok: true},
		{name: "three bytes", in: "____", want: "\xff\xff\xff", ok: true},
		{name: "header", in: "eyJhbGciOiJSUzI1NiJ9", want: `{"alg":"RS256"}`, ok: true},
		{name: "padding", in: "_w==", ok: false},
		{name: "standard alphabet", in: "+/8", ok: false},
		{name: "impossible length", in: "abcde", ok: false},
		{name: "non-canonical one byte", in: "_x", ok: false},
		{name: "non-canonical two bytes", in: "__9", ok: false},
		{name: "space", in: "ab c", ok: false},
		{name: "high byte", in: "ab\xffc", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]byte, 16)
			n, ok := decodeSegment(dst, tt.in)
			if ok != tt.ok || (ok && string(dst[:n]) != tt.want) {
				t.Fatalf("decodeSegment(%q) = %q, %v; want %q, %v", tt.in, dst[:n], ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzDecodeSegment(f *testing.F) {
	for _, s := range []string{"", "_w", "__8", "eyJhbGciOiJSUzI1NiJ9", "_x", "a", "+/"} {
		f.Add(s)
	}
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, in string) {
		dst := make([]byte, len(in))
		n, ok := decodeSegment(dst, in)
		want, err := strict.DecodeString(in)
		// encoding/base64 skips \r and \n; a JWT segment never holds them.
		if ok != (err == nil) && (ok || !strings.ContainsAny(in, "\r\n")) {
			t.Fatalf("decodeSegment(%q) ok=%v, encoding/base64 err=%v", in, ok, err)
		}
		if ok && !bytes.Equal(dst[:n], want) {
			t.Fatalf("decodeSegment(%q) = %x, want %x", in, dst[:n], want)
		}
	})
}
