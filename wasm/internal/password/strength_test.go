package password

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckScores(t *testing.T) {
	tests := []struct {
		name         string
		plain        string
		email        string
		wantMin      int
		wantMax      int
		wantBreached bool
		wantValid    bool
		wantWarning  string
	}{
		{name: "top password", plain: "password", wantMax: 0, wantBreached: true, wantWarning: "This is a top-10 common password"},
		{name: "top password capitalised with digit", plain: "Password1", wantMax: 0, wantBreached: true, wantWarning: "This is a very common password"},
		{name: "keyboard row", plain: "qwertyuiop", wantMax: 0, wantBreached: true, wantWarning: "This is a top-100 common password"},
		{name: "season and year", plain: "Summer2024!", wantMax: 0, wantBreached: true},
		{name: "name and birth year", plain: "jennifer1985", wantMax: 0, wantBreached: true},
		{name: "l33t top password", plain: "P@ssw0rd!", wantMax: 1, wantWarning: "This is similar to a commonly used password"},
		{name: "reversed top password", plain: "drowssap", wantMax: 0, wantWarning: "This is similar to a commonly used password"},
		{name: "xkcd troubador", plain: "Tr0ub4dor&3", wantMax: 2},
		{name: "xkcd passphrase", plain: "correct horse battery staple", wantMin: 3, wantMax: 4, wantValid: true},
		{name: "random 16 characters", plain: "xK9#mQ2$vL7!pR4&", wantMin: 4, wantMax: 4, wantValid: true},
		{name: "random 16 lowercase and digits", plain: "k3v9q0x7m2p8z4w1", wantMin: 4, wantMax: 4, wantValid: true},
		{name: "repeated character", plain: "aaaaaaaaaaaa", wantMax: 0, wantWarning: `Repeats like "aaa" are easy to guess`},
		{name: "repeated word", plain: "abcabcabcabc", wantMax: 0, wantWarning: `Repeats like "abcabcabc" are only slightly harder to guess than "abc"`},
		{name: "sequence", plain: "abcdefghijk", wantMax: 0, wantWarning: "Sequences like abc or 6543 are easy to guess"},
		{name: "descending digits", plain: "98765432", wantMax: 0, wantBreached: true},
		{name: "descending letters", plain: "zyxwvutsrq", wantMax: 0, wantWarning: "Sequences like abc or 6543 are easy to guess"},
		{name: "keyboard pattern", plain: "zxcvbnm,./", wantMax: 1, wantWarning: "Straight rows of keys are easy to guess"},
		{name: "keypad walk", plain: "7412369874", wantMax: 2},
		{name: "date with separators", plain: "13/11/1980", wantMax: 1, wantWarning: "Dates are often easy to guess"},
		{name: "date without separators", plain: "19801113", wantMax: 1, wantWarning: "Dates are often easy to guess"},
		{name: "email local part", plain: "johnsmith1990", email: "john.smith@example.com", wantMax: 1, wantWarning: "Parts of your email address are easy to guess"},
		{name: "email domain", plain: "examplecorp", email: "ann@examplecorp.com", wantMax: 0, wantWarning: "Parts of your email address are easy to guess"},
		{name: "too short though random", plain: "x7#Kp2", wantMax: 4, wantWarning: "Passwords must be at least 8 characters long"},
		{name: "empty", plain: "", wantMax: 0, wantWarning: "Passwords must be at least 8 characters long"},
		{name: "three words with punctuation", plain: "fluffy-unicorn-42", wantMin: 3, wantMax: 4, wantValid: true},
		{name: "unicode passphrase", plain: "grüne Äpfel schmecken süß", wantMin: 4, wantMax: 4, wantValid: true},
		// Phrases of common words are guessed as one combination of
		// words, not as independent patterns.
		{name: "short common words run together", plain: "ilovemydog", wantMin: 1, wantMax: 2},
		{name: "sentence ending in a common password", plain: "thisisapassword", wantMin: 1, wantMax: 2},
		{name: "phrase with spaces", plain: "iloveyou so much", wantMin: 1, wantMax: 2},
		{name: "common password and word", plain: "letmeinplease", wantMin: 1, wantMax: 2},
		{name: "five common words", plain: "mydogisthebest", wantMin: 1, wantMax: 2},
		{name: "xkcd passphrase without spaces", plain: "correcthorsebatterystaple", wantMin: 3, wantMax: 4, wantValid: true},
		{name: "random 16 with letters and symbols", plain: "Gq7!vZ2@rT9#wK4$", wantMin: 4, wantMax: 4, wantValid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.plain, tc.email)
			if got.Score < tc.wantMin || got.Score > tc.wantMax {
				t.Errorf("Score = %d; want %d..%d", got.Score, tc.wantMin, tc.wantMax)
			}
			if got.Breached != tc.wantBreached {
				t.Errorf("Breached = %v; want %v", got.Breached, tc.wantBreached)
			}
			if got.Valid != tc.wantValid {
				t.Errorf("Valid = %v; want %v", got.Valid, tc.wantValid)
			}
			if tc.wantWarning != "" && got.Warning != tc.wantWarning {
				t.Errorf("Warning = %q; want %q", got.Warning, tc.wantWarning)
			}
			if got.Valid && (got.Warning != "" || len(got.Suggestions) != 0) {
				t.Errorf("valid password has feedback %q %q", got.Warning, got.Suggestions)
			}
			if !got.Valid && got.Warning == "" && len(got.Suggestions) == 0 {
				t.Errorf("invalid password without feedback")
			}
		})
	}
}

func TestCheckSuggestions(t *testing.T) {
	tests := []struct {
		name  string
		plain string
		want  []string
	}{
		{name: "empty", plain: "", want: []string{"Use a few words, avoid common phrases", "No need for symbols, digits, or uppercase letters"}},
		{name: "capitalised", plain: "Password1", want: []string{"Add another word or two. Uncommon words are better.", "Capitalization doesn't help very much"}},
		{name: "all caps", plain: "QWERTYUIOP", want: []string{"Add another word or two. Uncommon words are better.", "All-uppercase is almost as easy to guess as all-lowercase"}},
		{name: "reversed", plain: "drowssap", want: []string{"Add another word or two. Uncommon words are better.", "Reversed words aren't much harder to guess"}},
		{name: "l33t", plain: "p@ssw0rd!", want: []string{"Add another word or two. Uncommon words are better.", "Predictable substitutions like '@' instead of 'a' don't help very much"}},
		{name: "year", plain: "2019", want: []string{"Add another word or two. Uncommon words are better.", "Avoid recent years", "Avoid years that are associated with you"}},
		{name: "strong", plain: "correct horse battery staple", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Check(tc.plain, "").Suggestions; !slices.Equal(got, tc.want) {
				t.Fatalf("Suggestions = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestCheckLengthLimits(t *testing.T) {
	strong := "xK9#mQ2$vL7!pR4&"
	tests := []struct {
		name        string
		plain       string
		wantValid   bool
		wantWarning string
	}{
		{name: "seven characters", plain: strong[:7], wantWarning: "Passwords must be at least 8 characters long"},
		{name: "eight multibyte characters count as eight", plain: "ü€√ß∂ƒ©˙", wantValid: true},
		{name: "exactly max length", plain: strings.Repeat(strong, MaxLength/len(strong)), wantValid: true},
		{name: "one byte over", plain: strings.Repeat(strong, MaxLength/len(strong)) + "x", wantWarning: "Passwords must be at most 256 bytes long"},
		{name: "megabyte", plain: strings.Repeat("Zq8$", 1<<18), wantWarning: "Passwords must be at most 256 bytes long"},
		{name: "over max length split inside a character", plain: strings.Repeat("é", MaxLength), wantWarning: "Passwords must be at most 256 bytes long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.plain, "")
			if got.Valid != tc.wantValid {
				t.Errorf("Valid = %v (score %d, warning %q); want %v", got.Valid, got.Score, got.Warning, tc.wantValid)
			}
			if tc.wantWarning != "" && got.Warning != tc.wantWarning {
				t.Errorf("Warning = %q; want %q", got.Warning, tc.wantWarning)
			}
		})
	}
}

func TestCheckEmailLowersScore(t *testing.T) {
	// Neither part is on a list, so only the email makes them guessable.
	without := Check("quorvexblint1990", "")
	with := Check("quorvexblint1990", "quorvex.blint@example.com")
	if with.Score >= without.Score {
		t.Fatalf("score with the email %d, without %d; parts of the email should make it weaker", with.Score, without.Score)
	}
}

func TestCheckDeterministic(t *testing.T) {
	for _, plain := range []string{"Tr0ub4dor&3", "correct horse battery staple", "johnsmith1990", "aaaa1234qwer"} {
		first := Check(plain, "john.smith@example.com")
		for range 3 {
			if again := Check(plain, "john.smith@example.com"); !equalStrength(first, again) {
				t.Fatalf("Check(%q) changed: %+v then %+v", plain, first, again)
			}
		}
	}
}

func TestCommonListIsBreached(t *testing.T) {
	d := loadDictionaries()
	n := 0
	for line := range strings.SplitSeq(commonText, "\n") {
		if line == "" {
			continue
		}
		n++
		if n%97 != 0 { // a spread sample keeps this fast
			continue
		}
		if st := Check(line, ""); !st.Breached || st.Score != 0 || st.Valid {
			t.Fatalf("Check(%q) = %+v; want breached, score 0, invalid", line, st)
		}
		if !d.breached(line) {
			t.Fatalf("breached(%q) = false", line)
		}
	}
	if st := Check("PassWord", ""); !st.Breached {
		t.Fatalf("Check(PassWord).Breached = false; the list is matched case-insensitively")
	}
}

func TestEmailParts(t *testing.T) {
	tests := []struct {
		name  string
		email string
		want  []string
	}{
		{name: "dotted", email: "John.Smith@example.com", want: []string{"john.smith", "johnsmith", "john", "smith", "example"}},
		{name: "digits and plus", email: "ann99+news@mail.corp.io", want: []string{"ann99+news", "annnews", "ann", "news", "mail", "corp"}},
		{name: "short parts dropped", email: "ab@cd.io", want: nil},
		{name: "empty", email: "", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := emailParts(tc.email); !slices.Equal(got, tc.want) {
				t.Fatalf("emailParts(%q) = %q; want %q", tc.email, got, tc.want)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password", "Tr0ub4dor&3", "correct horse battery staple", "13/11/1980", "aaaa", "abcabc", "1qaz2wsx", "ü€√ß", "\xff\xfe", ""} {
		f.Add(s, "john.smith@example.com")
	}
	f.Fuzz(func(t *testing.T, plain, email string) {
		got := Check(plain, email)
		if got.Score < 0 || got.Score > 4 {
			t.Fatalf("Score = %d", got.Score)
		}
		if got.Valid && (got.Score < 3 || got.Breached || utf8.RuneCountInString(plain) < MinLength || len(plain) > MaxLength) {
			t.Fatalf("Valid with %+v for %q", got, plain)
		}
		if got.Breached && got.Score != 0 {
			t.Fatalf("Breached with score %d", got.Score)
		}
		if again := Check(plain, email); !equalStrength(got, again) {
			t.Fatalf("not deterministic: %+v then %+v", got, again)
		}
	})
}

func equalStrength(a, b Strength) bool {
	return a.Valid == b.Valid && a.Score == b.Score && a.Breached == b.Breached &&
		a.Warning == b.Warning && slices.Equal(a.Suggestions, b.Suggestions)
}
