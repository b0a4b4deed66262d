package oauth

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestNameAndScopeChecks holds validName and validScope to the patterns
// they are written out from: every string of up to two bytes, strings at
// and around the length bounds, and random strings over the bytes that
// matter.
func TestNameAndScopeChecks(t *testing.T) {
	namePattern := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	scopePattern := regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]{1,128}$`)
	check := func(s string) {
		t.Helper()
		if got, want := validName(s), namePattern.MatchString(s); got != want {
			t.Fatalf("validName(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := validScope(s), scopePattern.MatchString(s); got != want {
			t.Fatalf("validScope(%q) = %v, the pattern says %v", s, got, want)
		}
	}
	check("")
	for a := range 256 {
		check(string([]byte{byte(a)}))
		for b := range 256 {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	for _, n := range []int{31, 32, 33, 127, 128, 129} {
		for _, c := range []string{"a", "_", "-", "~", "é"} {
			check(strings.Repeat(c, n))
			check("a" + strings.Repeat(c, n-1))
		}
	}
	alphabet := []byte("az09_-~!\"\\ \x7f\x80AZ[]")
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		b := make([]byte, r.IntN(140))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
}
