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
			n, ok = decodeSegmentStdlib(dst, make([]byte, len(tt.in)), tt.in)
			if ok != tt.ok || (ok && string(dst[:n]) != tt.want) {
				t.Fatalf("decodeSegmentStdlib(%q) = %q, %v; want %q, %v", tt.in, dst[:n], ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzDecodeSegment(f *testing.F) {
	for _, s := range []string{"", "_w", "__8", "eyJhbGciOiJSUzI1NiJ9", "_x", "a", "+/", "ab\r\ncd", "_w=="} {
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
		// decodeSegmentStdlib, the benchmarks' encoding/base64 version,
		// agrees exactly, \r and \n included.
		std := make([]byte, len(in))
		m, stdOK := decodeSegmentStdlib(std, make([]byte, len(in)), in)
		if stdOK != ok || ok && !bytes.Equal(std[:m], dst[:n]) {
			t.Fatalf("decodeSegment(%q) = %x, %v; decodeSegmentStdlib %x, %v", in, dst[:n], ok, std[:m], stdOK)
		}
	})
}

// decodeSegmentStdlib is decodeSegment done with encoding/base64: the
// string copied into in (which must hold it), then RawURLEncoding.Strict,
// which skips \r and \n where decodeSegment refuses them, hence the
// alphabet check before it.
func decodeSegmentStdlib(dst, in []byte, src string) (int, bool) {
	if n := decodedLen(len(src)); n < 0 || n > len(dst) || len(src) > len(in) {
		return 0, false
	}
	if strings.IndexByte(src, '\r') >= 0 || strings.IndexByte(src, '\n') >= 0 {
		return 0, false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(dst, in[:copy(in, src)])
	return n, err == nil
}

// BenchmarkDecodeSegment compares decodeSegment with encoding/base64 on
// the three segments of a Latch session JWT: hand is decodeSegment,
// stdlib is decodeSegmentStdlib (the copy into a reused buffer, the
// alphabet check and RawURLEncoding.Strict().Decode), stdlib-bytes is
// RawURLEncoding.Strict().Decode alone on bytes copied beforehand (what
// encoding/base64 costs without the copy or the check, a lower bound).
func BenchmarkDecodeSegment(b *testing.B) {
	tok := benchTokens()[0]
	dot1, dot2 := splitToken(tok)
	dst := make([]byte, maxTokenLen)
	in := make([]byte, maxTokenLen)
	for _, seg := range []struct{ name, s string }{
		{name: "header", s: tok[:dot1]},
		{name: "payload", s: tok[dot1+1 : dot2]},
		{name: "signature", s: tok[dot2+1:]},
	} {
		want := make([]byte, len(seg.s))
		n, ok := decodeSegment(want, seg.s)
		if !ok {
			b.Fatalf("%s does not decode", seg.name)
		}
		want = want[:n]
		src := []byte(seg.s)
		for _, arm := range []struct {
			name   string
			decode func(string) (int, bool)
		}{
			{name: "hand", decode: func(s string) (int, bool) { return decodeSegment(dst, s) }},
			{name: "stdlib", decode: func(s string) (int, bool) { return decodeSegmentStdlib(dst, in, s) }},
			{name: "stdlib-bytes", decode: func(string) (int, bool) {
				n, err := base64.RawURLEncoding.Strict().Decode(dst, src)
				return n, err == nil
			}},
		} {
			b.Run(seg.name+"/"+arm.name, func(b *testing.B) {
				if n, ok := arm.decode(seg.s); !ok || !bytes.Equal(dst[:n], want) {
					b.Fatal("wrong decoding")
				}
				b.SetBytes(int64(len(seg.s)))
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := arm.decode(seg.s); !ok {
						b.Fatal("refused")
					}
				}
			})
		}
	}
}
