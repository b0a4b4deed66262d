package password_test

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/latchauth/latch/wasm/internal/password"
)

func ExampleHasher() {
	// Production code uses password.DefaultParams(); small parameters keep
	// the example fast.
	h := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})

	encoded, err := h.Hash(rand.Reader, "correct horse battery staple")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$"))

	ok, rehash, err := h.Verify("correct horse battery staple", encoded)
	fmt.Println(ok, rehash, err)

	ok, _, err = h.Verify("Tr0ub4dor&3", encoded)
	fmt.Println(ok, err)

	// A hasher with stronger parameters still verifies the old hash and
	// asks for it to be redone.
	stronger := password.NewHasher(password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32})
	ok, rehash, err = stronger.Verify("correct horse battery staple", encoded)
	fmt.Println(ok, rehash, err)
	// Output:
	// true
	// true false <nil>
	// false <nil>
	// true true <nil>
}

func ExampleCheck() {
	for _, plain := range []string{"password", "Tr0ub4dor&3", "correct horse battery staple"} {
		st := password.Check(plain, "ann@example.com")
		fmt.Printf("%q score=%d valid=%v breached=%v warning=%q\n", plain, st.Score, st.Valid, st.Breached, st.Warning)
	}
	// Output:
	// "password" score=0 valid=false breached=true warning="This is a top-10 common password"
	// "Tr0ub4dor&3" score=2 valid=false breached=false warning=""
	// "correct horse battery staple" score=4 valid=true breached=false warning=""
}
