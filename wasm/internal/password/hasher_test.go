package password

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

// testParams keeps hashing cheap where a test is not about cost.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// fixedSalt is a random source that yields "saltsaltsalt…".
func fixedSalt() io.Reader { return strings.NewReader(strings.Repeat("salt", 64)) }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestHashKnownAnswer(t *testing.T) {
	// The same input through the reference tool: testdata/argon2id-vectors.txt.
	const want = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM"
	got, err := NewHasher(testParams).Hash(fixedSalt(), "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if got != want {
		t.Fatalf("Hash = %s\nwant   %s", got, want)
	}
}

func TestVerifyReferenceVectors(t *testing.T) {
	f, err := os.Open("testdata/argon2id-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := NewHasher(testParams)
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		plain, encoded, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad vector line %q", line)
		}
		n++
		t.Run(encoded, func(t *testing.T) {
			ok, _, err := h.Verify(plain, encoded)
			if err != nil || !ok {
				t.Fatalf("Verify(right password) = %v, %v; want true, nil", ok, err)
			}
			ok, _, err = h.Verify(plain+"x", encoded)
			if err != nil || ok {
				t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
	if n < 5 {
		t.Fatalf("read %d vectors, want at least 5", n)
	}
}

func TestHashVerify(t *testing.T) {
	other := Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name       string
		hashWith   Params
		verifyWith Params
		plain      string
		attempt    string
		wantOK     bool
		wantRehash bool
	}{
		{name: "round trip", hashWith: testParams, verifyWith: testParams, plain: "hunter2hunter2", attempt: "hunter2hunter2", wantOK: true},
		{name: "wrong password", hashWith: testParams, verifyWith: testParams, plain: "hunter2hunter2", attempt: "hunter2hunter3"},
		{name: "case matters", hashWith: testParams, verifyWith: testParams, plain: "Secret-Phrase", attempt: "secret-phrase"},
		{name: "empty password", hashWith: testParams, verifyWith: testParams, plain: "", attempt: "", wantOK: true},
		{name: "unicode", hashWith: testParams, verifyWith: testParams, plain: "pässwörd ☃", attempt: "pässwörd ☃", wantOK: true},
		{name: "max length", hashWith: testParams, verifyWith: testParams, plain: strings.Repeat("a", MaxLength), attempt: strings.Repeat("a", MaxLength), wantOK: true},
		{name: "over max length never matches", hashWith: testParams, verifyWith: testParams, plain: strings.Repeat("a", MaxLength), attempt: strings.Repeat("a", MaxLength+1)},
		{name: "older params ask for rehash", hashWith: testParams, verifyWith: other, plain: "hunter2hunter2", attempt: "hunter2hunter2", wantOK: true, wantRehash: true},
		{name: "newer params ask for rehash too", hashWith: other, verifyWith: testParams, plain: "hunter2hunter2", attempt: "hunter2hunter2", wantOK: true, wantRehash: true},
		{name: "salt length change asks for rehash", hashWith: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32}, verifyWith: testParams, plain: "pw", attempt: "pw", wantOK: true, wantRehash: true},
		{name: "wrong password with other params: no rehash", hashWith: other, verifyWith: testParams, plain: "hunter2hunter2", attempt: "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			encoded, err := NewHasher(tc.hashWith).Hash(fixedSalt(), tc.plain)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			ok, rehash, err := NewHasher(tc.verifyWith).Verify(tc.attempt, encoded)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.wantOK || rehash != tc.wantRehash {
				t.Fatalf("Verify = ok %v rehash %v; want ok %v rehash %v", ok, rehash, tc.wantOK, tc.wantRehash)
			}
		})
	}
}

func TestHashSaltIsFresh(t *testing.T) {
	h := NewHasher(testParams)
	random := bytes.NewReader(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, 4))
	a, errA := h.Hash(random, "same password")
	b, errB := h.Hash(random, "same password")
	if errA != nil || errB != nil {
		t.Fatalf("Hash: %v, %v", errA, errB)
	}
	if a == b {
		t.Fatalf("two hashes of one password under different salts are equal: %s", a)
	}
}

func TestHashErrors(t *testing.T) {
	tests := []struct {
		name    string
		params  Params
		random  io.Reader
		plain   string
		wantErr error
	}{
		{name: "zero params fail closed", params: Params{}, random: fixedSalt(), plain: "pw", wantErr: ErrInvalidParams},
		{name: "too long", params: testParams, random: fixedSalt(), plain: strings.Repeat("x", MaxLength+1), wantErr: ErrTooLong},
		{name: "nil random", params: testParams, random: nil, plain: "pw", wantErr: ErrRandom},
		{name: "failing random", params: testParams, random: failingReader{}, plain: "pw", wantErr: ErrRandom},
		{name: "short random", params: testParams, random: strings.NewReader("short"), plain: "pw", wantErr: ErrRandom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewHasher(tc.params).Hash(tc.random, tc.plain)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Hash error = %v; want %v", err, tc.wantErr)
			}
			if got != "" {
				t.Fatalf("Hash = %q with an error; want empty", got)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		params  Params
		wantErr error
	}{
		{name: "default", params: DefaultParams(), wantErr: nil},
		{name: "test", params: testParams, wantErr: nil},
		{name: "zero", params: Params{}, wantErr: ErrInvalidParams},
		{name: "memory too small", params: Params{Memory: 63, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "memory too large", params: Params{Memory: 64*1024 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "time zero", params: Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "time too large", params: Params{Memory: 64, Time: 11, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "threads zero", params: Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "threads too many", params: Params{Memory: 64, Time: 1, Threads: 5, SaltLen: 16, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "salt too short", params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "salt too long", params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 65, KeyLen: 32}, wantErr: ErrInvalidParams},
		{name: "key too short", params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 15}, wantErr: ErrInvalidParams},
		{name: "key too long", params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 65}, wantErr: ErrInvalidParams},
		{name: "upper bounds", params: Params{Memory: 64 * 1024, Time: 10, Threads: 4, SaltLen: 64, KeyLen: 64}, wantErr: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.params.Validate(); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Validate() = %v; want %v", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultParamsMeetOWASPMinimum(t *testing.T) {
	p := DefaultParams()
	// OWASP's argon2id floor: m=19456 KiB with t=2, or m=12288 KiB with t=3.
	if !(p.Memory >= 19456 && p.Time >= 2) && !(p.Memory >= 12288 && p.Time >= 3) {
		t.Fatalf("DefaultParams %+v below OWASP's argon2id minimum", p)
	}
	if p.SaltLen < 16 || p.KeyLen < 32 {
		t.Fatalf("DefaultParams %+v: salt or key shorter than 16/32 bytes", p)
	}
}

func TestVerifyRejectsBadEncodings(t *testing.T) {
	good, err := NewHasher(testParams).Hash(fixedSalt(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"
	const key = "TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM"
	tests := []struct {
		name    string
		encoded string
		wantErr error
	}{
		{name: "empty", encoded: "", wantErr: ErrMalformedHash},
		{name: "no leading dollar", encoded: good[1:], wantErr: ErrMalformedHash},
		{name: "bcrypt", encoded: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", wantErr: ErrUnsupportedHash},
		{name: "argon2i", encoded: "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, wantErr: ErrUnsupportedHash},
		{name: "old version", encoded: "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, wantErr: ErrUnsupportedHash},
		{name: "garbage version", encoded: "$argon2id$v=x$m=64,t=1,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "missing version", encoded: "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "extra field", encoded: good + "$", wantErr: ErrMalformedHash},
		{name: "params out of order", encoded: "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "extra param", encoded: "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "leading zero", encoded: "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "negative", encoded: "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "plus sign", encoded: "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "uint32 overflow", encoded: "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key, wantErr: ErrMalformedHash},
		{name: "absurd memory", encoded: "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, wantErr: ErrInvalidParams},
		{name: "absurd time", encoded: "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key, wantErr: ErrInvalidParams},
		{name: "absurd threads", encoded: "$argon2id$v=19$m=64,t=1,p=255$" + salt + "$" + key, wantErr: ErrInvalidParams},
		{name: "threads over uint8", encoded: "$argon2id$v=19$m=64,t=1,p=257$" + salt + "$" + key, wantErr: ErrInvalidParams},
		{name: "zero time", encoded: "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, wantErr: ErrInvalidParams},
		{name: "salt too short", encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key, wantErr: ErrInvalidParams},
		{name: "key too short", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA", wantErr: ErrInvalidParams},
		{name: "padded salt", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, wantErr: ErrMalformedHash},
		{name: "url-safe alphabet", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + "-" + key[1:], wantErr: ErrMalformedHash},
		{name: "non-canonical base64 tail", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "N", wantErr: ErrMalformedHash},
		{name: "too long", encoded: good + strings.Repeat("A", 300), wantErr: ErrMalformedHash},
	}
	h := NewHasher(testParams)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify("pw", tc.encoded)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error = %v; want %v", err, tc.wantErr)
			}
			if ok || rehash {
				t.Fatalf("Verify = ok %v rehash %v with an error; want false, false", ok, rehash)
			}
		})
	}
}

func TestVerifyTamperedHash(t *testing.T) {
	h := NewHasher(testParams)
	good, err := h.Hash(fixedSalt(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify("pw", good); !ok || err != nil {
		t.Fatalf("Verify(untampered) = %v, %v", ok, err)
	}
	// Flip each base64 character of the salt and key in turn; none may verify.
	start := strings.LastIndex(good, "$") - len(b64.EncodeToString(make([]byte, testParams.SaltLen)))
	for i := start; i < len(good); i++ {
		if good[i] == '$' {
			continue
		}
		b := []byte(good)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		ok, _, err := h.Verify("pw", string(b))
		if ok {
			t.Fatalf("tampered hash %s verified", b)
		}
		if err != nil && !errors.Is(err, ErrMalformedHash) {
			t.Fatalf("tampered hash %s: error %v, want nil or ErrMalformedHash", b, err)
		}
	}
	// Changed parameters change the key, so the old key does not verify.
	swapped := strings.Replace(good, "t=1", "t=2", 1)
	if ok, _, err := h.Verify("pw", swapped); ok || err != nil {
		t.Fatalf("Verify(params changed) = %v, %v; want false, nil", ok, err)
	}
}

func TestInvalidHasherFailsClosed(t *testing.T) {
	valid, err := NewHasher(testParams).Hash(fixedSalt(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(Params{})
	ok, rehash, err := h.Verify("pw", valid)
	if !errors.Is(err, ErrInvalidParams) || ok || rehash {
		t.Fatalf("Verify with zero params = %v, %v, %v; want false, false, ErrInvalidParams", ok, rehash, err)
	}
	h.Equalize("pw") // must not panic
}

func TestEqualizeDoesTheWorkOfVerify(t *testing.T) {
	// Equalize has no result; what matters is that it runs the KDF with the
	// hasher's parameters, as Verify does. Argon2 allocates its whole memory
	// matrix, so the bytes allocated show the work done without timing it.
	p := Params{Memory: 2048, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h := NewHasher(p)
	encoded, err := h.Hash(fixedSalt(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	verify := allocated(func() { h.Verify("wrong", encoded) })
	equalize := allocated(func() { h.Equalize("wrong") })
	matrix := uint64(p.Memory) * 1024
	if verify < matrix || equalize < matrix {
		t.Fatalf("allocated %d bytes in Verify, %d in Equalize; want both at least %d", verify, equalize, matrix)
	}
	if tooLong := allocated(func() { h.Equalize(strings.Repeat("x", MaxLength+1)) }); tooLong >= matrix {
		t.Fatalf("Equalize of an over-long password allocated %d bytes; Verify rejects it without the KDF", tooLong)
	}
}
