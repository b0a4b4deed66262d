package password

import (
	"errors"
	"testing"
)

// FuzzVerify feeds arbitrary stored hashes to the parser and to Verify.
// Anything that parses must re-encode to the identical string (the form is
// canonical), stay within the parameter bounds, and fail only with the
// package's sentinel errors.
func FuzzVerify(f *testing.F) {
	for _, seed := range []string{
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM",
		"$argon2id$v=19$m=256,t=1,p=4$YWJjZGVmZ2g$bsEW5Va5nAJHLYUDq4tUJg",
		"$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHQxMjM0NTY3OA$9DcZ/wA4avC1/ek2FGqIG4VGcgu7eaBTq7hfMX+u6Ao",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdA$AAAA",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$$",
		"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"", "$", "$$$$$$",
	} {
		f.Add(seed)
	}
	h := NewHasher(testParams)
	f.Fuzz(func(t *testing.T, encoded string) {
		p, salt, key, err := decode(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) && !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("decode(%q) error %v wraps no sentinel", encoded, err)
			}
			if _, _, verr := h.Verify("pw", encoded); verr == nil {
				t.Fatalf("decode(%q) failed with %v but Verify did not", encoded, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("decode(%q) accepted out-of-bounds params: %v", encoded, err)
		}
		if again := encode(p, salt, key); again != encoded {
			t.Fatalf("decode/encode not canonical:\n in  %q\n out %q", encoded, again)
		}
		if uint64(p.Memory)*uint64(p.Time) > 4096 {
			return // valid but too costly to run per fuzz input
		}
		if ok, _, err := h.Verify("pw", encoded); err != nil || ok {
			t.Fatalf("Verify(%q) = %v, %v; want false, nil", encoded, ok, err)
		}
	})
}
