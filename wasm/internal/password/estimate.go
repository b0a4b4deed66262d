package password

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// pattern is the kind of a match.
type pattern uint8

const (
	bruteforce pattern = iota
	dictionary
	spatial
	repeat
	sequence
	year
	date
)

// match is a run of the password, pw[i..j] inclusive (in runes), that a
// guesser would try early, with the log10 of the number of guesses it
// would take to reach it.
type match struct {
	i, j      int
	pattern   pattern
	log       float64
	dict      dictKind
	rank      int
	reversed  bool
	l33t      bool
	raw       float64 // dictionary: log before the submatch floor
	turns     int     // spatial
	baseLen   int     // repeat
	separator bool
}

// Constants of the zxcvbn estimate.
const (
	minGuessesBeforeGrowingSequence = 4 // log10(10000)
	minSubmatchGuessesSingleChar    = 10
	minSubmatchGuessesMultiChar     = 50
	maxRecursion                    = 4 // repeat bases analysed inside repeats

	// logCap bounds the search: past 10^10 guesses the score is 4 whatever
	// the exact figure, and a sequence of matches only gets more expensive
	// as it grows, so partial sequences above the cap are dropped. This
	// keeps the search small for long passwords.
	logCap = 12
)

// analysis collects the matches of one password.
type analysis struct {
	pw, lower  []rune
	emailParts []string
	dicts      *dictionaries
	depth      int
	matches    []match
	buf        []byte // scratch for dictionary lookups
	off        []int
}

// result is the cheapest way found to guess a password: log10 of the
// guesses and the matches that make it up.
type result struct {
	log float64
	seq []match
}

func analyze(pw []rune, emailParts []string, depth int) result {
	a := &analysis{pw: pw, emailParts: emailParts, dicts: loadDictionaries(), depth: depth}
	a.lower = make([]rune, len(pw))
	for i, r := range pw {
		a.lower[i] = unicode.ToLower(r)
	}
	a.dictionaryMatches()
	a.spatialMatches()
	if depth < maxRecursion {
		a.repeatMatches()
	}
	a.sequenceMatches()
	a.yearMatches()
	a.dateMatches()
	return a.mostGuessable()
}

// add records m, raising its estimate to the floor for its length.
func (a *analysis) add(m match) {
	m.log = max(m.log, a.minLog(m.i, m.j))
	a.matches = append(a.matches, m)
}

func (a *analysis) minLog(i, j int) float64 {
	switch {
	case i == 0 && j == len(a.pw)-1:
		return 0
	case i == j:
		return log10(minSubmatchGuessesSingleChar)
	default:
		return log10(minSubmatchGuessesMultiChar)
	}
}

func (a *analysis) addDictionary(i, j int, kind dictKind, rank int, reversed bool, l33tLog float64) {
	log := log10(float64(rank)) + log10(uppercaseVariations(a.pw[i:j+1])) + l33tLog
	if reversed {
		log += math.Log10(2)
	}
	a.add(match{i: i, j: j, pattern: dictionary, log: log, raw: log, dict: kind, rank: rank, reversed: reversed, l33t: l33tLog > 0})
}

// uppercaseVariations counts the capitalisations a guesser tries before
// reaching the one in token.
func uppercaseVariations(token []rune) float64 {
	upper, lower := 0, 0
	for _, r := range token {
		if unicode.IsUpper(r) {
			upper++
		} else if unicode.IsLower(r) {
			lower++
		}
	}
	if upper == 0 {
		return 1
	}
	first, last := unicode.IsUpper(token[0]), unicode.IsUpper(token[len(token)-1])
	if lower == 0 || (upper == 1 && (first || last)) {
		return 2
	}
	return variations(upper, lower)
}

// l33tLogVariations is log10 of the substitution tables a guesser tries
// before reaching the one in token (lower-case original runes) given the
// decoded text.
func l33tLogVariations(token, decoded []rune, subbed []bool) float64 {
	total := 1.0
	var seen []rune
	for k, c := range token {
		if !subbed[k] || containsRune(seen, c) {
			continue
		}
		seen = append(seen, c)
		letter := decoded[k]
		s, u := 0, 0
		for _, r := range token {
			switch r {
			case c:
				s++
			case letter:
				u++
			}
		}
		total *= variations(s, u)
	}
	return log10(total)
}

// variations is the number of ways to mark between 1 and min(s, u) of
// s+u characters: 1 when none is marked, 2 when all are.
func variations(s, u int) float64 {
	switch {
	case s == 0:
		return 1
	case u == 0:
		return 2
	}
	v := 0.0
	for i := 1; i <= min(s, u); i++ {
		v += nCk(s+u, i)
	}
	return v
}

func nCk(n, k int) float64 {
	if k > n {
		return 0
	}
	r := 1.0
	for d := 1; d <= k; d++ {
		r = r * float64(n-d+1) / float64(d)
	}
	return r
}

func log10(x float64) float64 {
	if x <= 1 {
		return 0
	}
	if math.IsInf(x, 1) {
		return math.MaxFloat64 / 2
	}
	return math.Log10(x)
}

// logAdd returns log10(10^a + 10^b).
func logAdd(a, b float64) float64 {
	hi, lo := max(a, b), min(a, b)
	return hi + math.Log10(1+math.Pow(10, lo-hi))
}

func logFactorial(n int) float64 {
	lg, _ := math.Lgamma(float64(n + 1))
	return lg / math.Ln10
}

// tail says how the last element of a partial sequence can be extended.
// A run of dictionary words, optionally joined by one separator
// character used throughout, is one element, a phrase: guessers combine
// words from their lists (a combinator attack), so "ilovemydog" costs
// about the product of its words' ranks, not the price of four
// independent patterns.
type tail uint8

const (
	tailClosed tail = iota // a match that a phrase cannot continue
	tailBrute              // a bruteforce run: the next element is not one
	tailWord               // a phrase of one word
	tailJoined             // a phrase of words with nothing between them
	tailSep                // a phrase of words joined by separator seps[sep]
)

// separators are the characters that may join the words of a phrase;
// choosing one costs log10(len(separators)).
const separators = " -_."

// minPhraseWordGuesses is the floor for each word after the first in a
// phrase: the single-character floor, since a phrase is guessed as one
// combination rather than as a growing sequence of patterns.
const minPhraseWordGuesses = minSubmatchGuessesSingleChar

// cell is the best way found to cover pw[0..k] with l elements whose last
// element has the given tail. Cells are only ever compared with cells of
// the same tail, so no cell that some extension needs is dropped.
type cell struct {
	l      int
	tail   tail
	sep    uint8   // index in separators, for tailSep
	m      match   // the last match
	logPi  float64 // log10 of the product of the elements' guesses
	logG   float64 // log10 of l! * product + 10000^(l-1)
	prev   int32   // index of the previous cell in optimal[m.i-1 or -2]
	prevAt int32   // position of the previous cell, -1 for none
}

func (c cell) same(d cell) bool {
	return c.tail == d.tail && (c.tail != tailSep || c.sep == d.sep)
}

// mostGuessable finds the sequence of non-overlapping elements, with
// bruteforce filling the gaps, that minimises the guesses, as zxcvbn does:
// l! * (product of the elements' guesses) + 10000^(l-1).
//
// The search is exact: optimal[k] keeps, for each element count and tail,
// the partial sequence with the smallest product, and a cell is only
// discarded for another of the same tail with no more elements and no
// larger product, which every extension of it would also beat. The one
// other cut, logCap, drops partial sequences above 10^logCap guesses:
// guesses never fall as a sequence grows, so such a prefix can only end
// in a total above the cap, which scores 4 whatever its exact value, and
// the result is then reported as logCap.
func (a *analysis) mostGuessable() result {
	n := len(a.pw)
	if n == 0 {
		return result{}
	}
	byEnd := make([][]int, n)
	for k, m := range a.matches {
		byEnd[m.j] = append(byEnd[m.j], k)
	}
	classes := newClassCounts(a.pw)
	optimal := make([][]cell, n)
	sepLog := math.Log10(float64(len(separators)))
	update := func(nc cell) {
		k := nc.m.j
		if nc.logPi > logCap {
			return
		}
		nc.logG = logAdd(logFactorial(nc.l)+nc.logPi, float64(nc.l-1)*minGuessesBeforeGrowingSequence)
		if nc.logG > logCap {
			return
		}
		for x, c := range optimal[k] {
			if !c.same(nc) {
				continue
			}
			if c.l <= nc.l && c.logPi <= nc.logPi {
				return
			}
			if c.l == nc.l {
				optimal[k][x] = nc
				return
			}
		}
		optimal[k] = append(optimal[k], nc)
	}
	extend := func(m match, mTail tail, at int) {
		if at < 0 {
			update(cell{l: 1, tail: mTail, m: m, logPi: m.log, prevAt: -1})
			return
		}
		for x, c := range optimal[at] {
			if mTail == tailBrute && c.tail == tailBrute {
				continue // adjacent bruteforce runs merge
			}
			update(cell{l: c.l + 1, tail: mTail, m: m, logPi: c.logPi + m.log, prev: int32(x), prevAt: int32(at)})
		}
	}
	for k := 0; k < n; k++ {
		for _, x := range byEnd[k] {
			m := a.matches[x]
			t := tailClosed
			if m.pattern == dictionary && !m.reversed {
				t = tailWord
			}
			extend(m, t, m.i-1)
			if t != tailWord || m.i == 0 {
				continue
			}
			// Continue a phrase: straight after a word, or after one
			// separator character.
			wordLog := max(m.raw, log10(minPhraseWordGuesses))
			for x, c := range optimal[m.i-1] {
				if c.tail == tailWord || c.tail == tailJoined {
					update(cell{l: c.l, tail: tailJoined, m: m, logPi: c.logPi + wordLog, prev: int32(x), prevAt: int32(m.i - 1)})
				}
			}
			s := strings.IndexRune(separators, a.pw[m.i-1])
			if s < 0 || m.i < 2 {
				continue
			}
			for x, c := range optimal[m.i-2] {
				switch {
				case c.tail == tailWord:
					update(cell{l: c.l, tail: tailSep, sep: uint8(s), m: m, logPi: c.logPi + wordLog + sepLog, prev: int32(x), prevAt: int32(m.i - 2)})
				case c.tail == tailSep && c.sep == uint8(s):
					update(cell{l: c.l, tail: tailSep, sep: uint8(s), m: m, logPi: c.logPi + wordLog, prev: int32(x), prevAt: int32(m.i - 2)})
				}
			}
		}
		// A longer run never costs fewer guesses, so once a run alone is
		// over the cap, so is every longer one.
		for i := k; i >= 0; i-- {
			bf := a.bruteforce(i, k, classes)
			if bf.log > logCap {
				break
			}
			extend(bf, tailBrute, i-1)
		}
	}
	last := optimal[n-1]
	if len(last) == 0 {
		return result{log: logCap}
	}
	best := 0
	for x, c := range last {
		if c.logG < last[best].logG {
			best = x
		}
	}
	res := result{log: last[best].logG}
	for at, x := n-1, best; at >= 0; {
		c := optimal[at][x]
		res.seq = append(res.seq, c.m)
		at, x = int(c.prevAt), int(c.prev)
	}
	slices.Reverse(res.seq)
	return res
}

// bruteforce is the match for pw[i..j] guessed character by character over
// the character classes it uses.
func (a *analysis) bruteforce(i, j int, cc *classCounts) match {
	length := j - i + 1
	log := float64(length) * math.Log10(cc.cardinality(i, j))
	floor := minSubmatchGuessesMultiChar + 1.0
	if length == 1 {
		floor = minSubmatchGuessesSingleChar + 1
	}
	log = max(log, math.Log10(floor))
	return match{i: i, j: j, pattern: bruteforce, log: log}
}

// classCounts holds prefix counts of character classes, so the charset of
// any run is known in constant time.
type classCounts struct {
	prefix [][numClasses]int32
}

const numClasses = 5

// classSize is the size of lower, upper, digit, ASCII symbol and other.
func classSize(c int) float64 {
	switch c {
	case 0, 1:
		return 26
	case 2:
		return 10
	case 3:
		return 33
	}
	return 100
}

func newClassCounts(pw []rune) *classCounts {
	cc := &classCounts{prefix: make([][numClasses]int32, len(pw)+1)}
	for k, r := range pw {
		cc.prefix[k+1] = cc.prefix[k]
		cc.prefix[k+1][charClass(r)]++
	}
	return cc
}

func charClass(r rune) int {
	switch {
	case 'a' <= r && r <= 'z':
		return 0
	case 'A' <= r && r <= 'Z':
		return 1
	case '0' <= r && r <= '9':
		return 2
	case r < 0x80:
		return 3
	}
	return 4
}

func (cc *classCounts) cardinality(i, j int) float64 {
	total := 0.0
	for c := 0; c < numClasses; c++ {
		if cc.prefix[j+1][c] > cc.prefix[i][c] {
			total += classSize(c)
		}
	}
	return total
}
