package password

import (
	"math"
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
	turns     int // spatial
	baseLen   int // repeat
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
	a.add(match{i: i, j: j, pattern: dictionary, log: log, dict: kind, rank: rank, reversed: reversed, l33t: l33tLog > 0})
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

// cell is the best way found to cover pw[0..k] with l matches, the last m.
type cell struct {
	l     int
	m     match
	logPi float64 // log10 of the product of the matches' guesses
	logG  float64 // log10 of l! * product + 10000^(l-1)
}

// mostGuessable finds the sequence of non-overlapping matches, with
// bruteforce filling the gaps, that minimises the guesses, as zxcvbn does:
// l! * (product of the matches' guesses) + 10000^(l-1).
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
	update := func(m match, l int, prevPi float64) {
		k := m.j
		pi := m.log + prevPi
		g := logAdd(logFactorial(l)+pi, float64(l-1)*minGuessesBeforeGrowingSequence)
		if g > logCap {
			return
		}
		for _, c := range optimal[k] {
			if c.l <= l && c.logG <= g {
				return
			}
		}
		for x, c := range optimal[k] {
			if c.l == l {
				optimal[k][x] = cell{l: l, m: m, logPi: pi, logG: g}
				return
			}
		}
		optimal[k] = append(optimal[k], cell{l: l, m: m, logPi: pi, logG: g})
	}
	for k := 0; k < n; k++ {
		for _, x := range byEnd[k] {
			m := a.matches[x]
			if m.i == 0 {
				update(m, 1, 0)
				continue
			}
			for _, c := range optimal[m.i-1] {
				update(m, c.l+1, c.logPi)
			}
		}
		update(a.bruteforce(0, k, classes), 1, 0)
		for i := 1; i <= k; i++ {
			if len(optimal[i-1]) == 0 {
				continue
			}
			bf := a.bruteforce(i, k, classes)
			for _, c := range optimal[i-1] {
				if c.m.pattern != bruteforce { // adjacent bruteforce runs merge
					update(bf, c.l+1, c.logPi)
				}
			}
		}
	}
	if len(optimal[n-1]) == 0 {
		return result{log: logCap}
	}
	best := -1
	for x, c := range optimal[n-1] {
		if best < 0 || c.logG < optimal[n-1][best].logG {
			best = x
		}
	}
	res := result{log: optimal[n-1][best].logG}
	seq := make([]match, optimal[n-1][best].l)
	for k, l := n-1, optimal[n-1][best].l; k >= 0 && l > 0; l-- {
		for _, c := range optimal[k] {
			if c.l == l {
				seq[l-1] = c.m
				k = c.m.i - 1
				break
			}
		}
	}
	res.seq = seq
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
