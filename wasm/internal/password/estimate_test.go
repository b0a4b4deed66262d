package password

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMostGuessableIsOptimal compares the search with an exhaustive
// enumeration of every way to cover short passwords with matches,
// phrases and bruteforce runs: pruning must never lose the cheapest.
func TestMostGuessableIsOptimal(t *testing.T) {
	pieces := []string{"i", "a", "my", "is", "love", "dog", "the", "pass", "word", "123", "qwe", "x", "z", " ", "-", "7", "Q", "@"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		var b strings.Builder
		for b.Len() < 4+rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		pw := []rune(b.String())
		if len(pw) > 11 {
			pw = pw[:11]
		}
		a := &analysis{pw: pw, dicts: loadDictionaries()}
		a.lower = []rune(strings.ToLower(string(pw)))
		a.dictionaryMatches()
		a.spatialMatches()
		a.repeatMatches()
		a.sequenceMatches()
		a.yearMatches()
		a.dateMatches()
		got := a.mostGuessable().log
		want := min(exhaustive(a), logCap)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%q: search found log10 %.4f; exhaustive %.4f", string(pw), got, want)
		}
	}
}

// exhaustive is the minimum of l! * product + 10000^(l-1) over every
// covering, found by trying them all.
func exhaustive(a *analysis) float64 {
	n := len(a.pw)
	cc := newClassCounts(a.pw)
	best := math.Inf(1)
	sepLog := math.Log10(float64(len(separators)))
	var walk func(pos, l int, pi float64, tl tail, sep rune)
	walk = func(pos, l int, pi float64, tl tail, sep rune) {
		if pos == n {
			best = min(best, logAdd(logFactorial(l)+pi, float64(l-1)*minGuessesBeforeGrowingSequence))
			return
		}
		for _, m := range a.matches {
			word := m.pattern == dictionary && !m.reversed
			wordLog := max(m.raw, log10(minPhraseWordGuesses))
			switch {
			case m.i == pos:
				next := tailClosed
				if word {
					next = tailWord
				}
				walk(m.j+1, l+1, pi+m.log, next, 0)
				if word && (tl == tailWord || tl == tailJoined) {
					walk(m.j+1, l, pi+wordLog, tailJoined, 0)
				}
			case m.i == pos+1 && word && strings.ContainsRune(separators, a.pw[pos]):
				if tl == tailWord {
					walk(m.j+1, l, pi+wordLog+sepLog, tailSep, a.pw[pos])
				} else if tl == tailSep && sep == a.pw[pos] {
					walk(m.j+1, l, pi+wordLog, tailSep, sep)
				}
			}
		}
		if tl != tailBrute {
			for j := pos; j < n; j++ {
				walk(j+1, l+1, pi+a.bruteforce(pos, j, cc).log, tailBrute, 0)
			}
		}
	}
	walk(0, 0, 0, tailClosed, 0)
	return best
}
