package password

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// MinLength is the shortest password, in characters, that Check accepts.
const MinLength = 8

// Strength is the outcome of Check.
type Strength struct {
	Valid       bool     // Score >= 3, not Breached, and within the length limits
	Score       int      // 0 (guessed at once) to 4 (beyond an offline attack)
	Breached    bool     // on the embedded list of common passwords
	Warning     string   // what makes the password weak, or ""
	Suggestions []string // how to do better; empty for a strong password
}

// Check estimates how hard plain is to guess, in the manner of zxcvbn:
// it finds the dictionary words (with l33t substitutions, reversals and
// capitals), keyboard patterns, repeats, sequences, years, dates and
// parts of email that make it up, and scores the cheapest way to guess
// the whole. Only the first MaxLength bytes are analysed; a longer
// password is not Valid. The result depends on nothing but the inputs.
func Check(plain, email string) Strength {
	tooLong := len(plain) > MaxLength
	if tooLong {
		plain = truncateUTF8(plain, MaxLength)
	}
	pw := []rune(plain)
	res := analyze(pw, emailParts(email), 0)

	st := Strength{Score: score(res.log)}
	lower := make([]byte, 0, len(plain))
	for _, r := range pw {
		lower = utf8.AppendRune(lower, unicode.ToLower(r))
	}
	if len(pw) > 0 && loadDictionaries().breached(string(lower)) {
		st.Breached, st.Score = true, 0
	}
	st.Warning, st.Suggestions = feedback(st.Score, res.seq, pw)
	switch {
	case st.Breached && st.Warning == "":
		st.Warning = "This is a very common password"
	case len(pw) < MinLength:
		st.Warning = "Passwords must be at least 8 characters long"
	case tooLong:
		st.Warning = "Passwords must be at most 256 bytes long"
	}
	st.Valid = st.Score >= 3 && !st.Breached && len(pw) >= MinLength && !tooLong
	return st
}

// score maps log10(guesses) to 0..4 at zxcvbn's thresholds: 10^3, 10^6,
// 10^8 and 10^10 guesses, each plus a small delta.
func score(log float64) int {
	for s, t := range [4]float64{1e3 + 5, 1e6 + 5, 1e8 + 5, 1e10 + 5} {
		if log < math.Log10(t) {
			return s
		}
	}
	return 4
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
