package password

import (
	"unicode"
)

// The feedback strings follow zxcvbn's wording.
const (
	suggestFewWords    = "Use a few words, avoid common phrases"
	suggestNoSymbols   = "No need for symbols, digits, or uppercase letters"
	suggestAnotherWord = "Add another word or two. Uncommon words are better."
)

// feedback explains a score: nothing for a strong password, otherwise a
// warning about the longest weak part and suggestions.
func feedback(score int, seq []match, pw []rune) (warning string, suggestions []string) {
	if score > 2 {
		return "", nil
	}
	if len(seq) == 0 {
		return "", []string{suggestFewWords, suggestNoSymbols}
	}
	longest := seq[0]
	for _, m := range seq[1:] {
		if m.j-m.i > longest.j-longest.i {
			longest = m
		}
	}
	warning, more := matchFeedback(longest, len(seq) == 1, pw)
	return warning, append([]string{suggestAnotherWord}, more...)
}

func matchFeedback(m match, sole bool, pw []rune) (string, []string) {
	switch m.pattern {
	case dictionary:
		return dictionaryFeedback(m, sole, pw)
	case spatial:
		w := "Short keyboard patterns are easy to guess"
		if m.turns == 1 {
			w = "Straight rows of keys are easy to guess"
		}
		return w, []string{"Use a longer keyboard pattern with more turns"}
	case repeat:
		w := `Repeats like "abcabcabc" are only slightly harder to guess than "abc"`
		if m.baseLen == 1 {
			w = `Repeats like "aaa" are easy to guess`
		}
		return w, []string{"Avoid repeated words and characters"}
	case sequence:
		return "Sequences like abc or 6543 are easy to guess", []string{"Avoid sequences"}
	case year:
		return "Recent years are easy to guess", []string{"Avoid recent years", "Avoid years that are associated with you"}
	case date:
		return "Dates are often easy to guess", []string{"Avoid dates and years that are associated with you"}
	}
	return "", nil
}

func dictionaryFeedback(m match, sole bool, pw []rune) (string, []string) {
	var warning string
	switch m.dict {
	case dictPasswords:
		switch {
		case sole && !m.l33t && !m.reversed && m.rank <= 10:
			warning = "This is a top-10 common password"
		case sole && !m.l33t && !m.reversed && m.rank <= 100:
			warning = "This is a top-100 common password"
		case sole && !m.l33t && !m.reversed:
			warning = "This is a very common password"
		case m.log <= 4:
			warning = "This is similar to a commonly used password"
		}
	case dictWords:
		if sole {
			warning = "A word by itself is easy to guess"
		}
	case dictNames:
		warning = "Common names and surnames are easy to guess"
		if sole {
			warning = "Names and surnames by themselves are easy to guess"
		}
	case dictEmail:
		warning = "Parts of your email address are easy to guess"
	}
	var suggestions []string
	token := pw[m.i : m.j+1]
	switch {
	case startsUpper(token):
		suggestions = append(suggestions, "Capitalization doesn't help very much")
	case allUpper(token):
		suggestions = append(suggestions, "All-uppercase is almost as easy to guess as all-lowercase")
	}
	if m.reversed && len(token) >= 4 {
		suggestions = append(suggestions, "Reversed words aren't much harder to guess")
	}
	if m.l33t {
		suggestions = append(suggestions, "Predictable substitutions like '@' instead of 'a' don't help very much")
	}
	return warning, suggestions
}

// startsUpper is zxcvbn's /^[A-Z][^A-Z]+$/.
func startsUpper(t []rune) bool {
	if len(t) < 2 || !unicode.IsUpper(t[0]) {
		return false
	}
	for _, r := range t[1:] {
		if unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// allUpper is zxcvbn's /^[^a-z]+$/ with at least one capital letter.
func allUpper(t []rune) bool {
	hasUpper := false
	for _, r := range t {
		if unicode.IsLower(r) {
			return false
		}
		hasUpper = hasUpper || unicode.IsUpper(r)
	}
	return hasUpper
}
