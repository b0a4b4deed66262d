package password

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// The Wasm figures in BENCHMARKS.md come from the same benchmarks run on
// the Wasm ports, with the Go distribution's exec wrappers on PATH:
//
//	PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm \
//	    go test -run '^$' -bench . -benchtime 10x ./wasm/internal/password/
//	PATH="$(go env GOROOT)/lib/wasm:$HOME/go/bin:$PATH" GOWASIRUNTIME=wazero \
//	    GOOS=wasip1 GOARCH=wasm go test -run '^$' -bench . -benchtime 10x ./wasm/internal/password/
//
// (js/wasm runs under Node; wasip1 needs the wazero CLI installed with
// go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0.)

// BenchmarkHash measures one Hash with DefaultParams: the CPU a signup or
// password change costs. Verify and Equalize cost the same.
func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams())
	random := strings.NewReader(strings.Repeat("s", 1<<20))
	b.ReportAllocs()
	for b.Loop() {
		if random.Len() < 64 {
			random.Seek(0, 0)
		}
		if _, err := h.Hash(random, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	reportSys(b)
}

// reportSys reports the memory the process has taken from the system so
// far, in MiB. On Wasm that is the size of linear memory, which never
// shrinks and counts against a Worker isolate's 128 MB; run one benchmark
// per process to attribute it.
func reportSys(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
}

// BenchmarkVerify measures one successful Verify with DefaultParams.
func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams())
	encoded, err := h.Hash(fixedSalt(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", encoded); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCandidates compares the settings considered for DefaultParams:
// OWASP's argon2id alternatives and scrypt at OWASP-equivalent strength.
func BenchmarkCandidates(b *testing.B) {
	plain, salt := []byte("correct horse battery staple"), []byte("saltsaltsaltsalt")
	for _, p := range []Params{
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 12288, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 9216, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 7168, Time: 5, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 47104, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		b.Run(fmt.Sprintf("argon2id/m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads), func(b *testing.B) {
			h := NewHasher(p)
			for b.Loop() {
				h.Equalize(string(plain))
			}
			reportSys(b)
		})
	}
	for _, c := range []struct{ logN, r, p int }{{17, 8, 1}, {16, 8, 2}, {15, 8, 3}, {14, 8, 5}} {
		b.Run(fmt.Sprintf("scrypt/N=2^%d,r=%d,p=%d", c.logN, c.r, c.p), func(b *testing.B) {
			for b.Loop() {
				if _, err := scrypt.Key(plain, salt, 1<<c.logN, c.r, c.p, 32); err != nil {
					b.Fatal(err)
				}
			}
			reportSys(b)
		})
	}
}

// BenchmarkCheck measures the strength check on typical input and on the
// longest input analysed, which bounds its cost.
func BenchmarkCheck(b *testing.B) {
	loadDictionaries()
	for _, c := range []struct{ name, plain string }{
		{"typical", "Tr0ub4dor&3"},
		{"passphrase", "correct horse battery staple"},
		{"max-random", strings.Repeat("xK9#mQ2$vL7!pR4&", MaxLength/16)},
		{"max-words", strings.Repeat("password", MaxLength/8)},
		{"max-l33t", strings.Repeat("p@55w0rd1|7!", MaxLength/12)},
		{"over-max", strings.Repeat("Zq8$", 1<<18)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Check(c.plain, "john.smith@example.com")
			}
		})
	}
}

// BenchmarkLoadDictionaries measures parsing the embedded lists, the
// one-off cost of the first Check in a process (a Worker isolate).
func BenchmarkLoadDictionaries(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if d := parseDictionaries(); len(d.words) < 9000 {
			b.Fatalf("parsed %d words", len(d.words))
		}
	}
}
