package password

import (
	"math"
	"strings"
)

// referenceYear anchors the guess estimates of years and dates. It is a
// constant, not the clock, so that a score never changes by itself.
const referenceYear = 2025

const (
	minYearSpace = 20
	maxDelta     = 5 // largest step of a sequence like "aceg" or "9630"
	minDateYear  = 1000
	maxDateYear  = 2050
)

// spatialMatches finds runs of three or more adjacent keys.
func (a *analysis) spatialMatches() {
	for _, kb := range loadKeyboards() {
		pw := a.pw
		for i := 0; i < len(pw)-1; {
			j, lastDir, turns, shifted := i+1, -1, 0, 0
			if strings.ContainsRune(kb.shifted, pw[i]) {
				shifted = 1
			}
			for ; j < len(pw); j++ {
				dir, shift := kb.direction(pw[j-1], pw[j])
				if dir < 0 {
					break
				}
				if shift {
					shifted++
				}
				if dir != lastDir {
					turns++
					lastDir = dir
				}
			}
			if j-i > 2 {
				a.add(match{i: i, j: j - 1, pattern: spatial, turns: turns,
					log: spatialLogGuesses(kb, j-i, turns, shifted)})
			}
			i = j
		}
	}
}

// direction reports in which direction next lies from prev, -1 if it is
// not adjacent, and whether next is typed with shift.
func (k *keyboard) direction(prev, next rune) (int, bool) {
	for d, key := range k.adj[prev] {
		if key == "" {
			continue
		}
		if idx := strings.IndexRune(key, next); idx >= 0 {
			return d, idx > 0
		}
	}
	return -1, false
}

func spatialLogGuesses(k *keyboard, length, turns, shifted int) float64 {
	guesses := 0.0
	for i := 2; i <= length; i++ {
		for j := 1; j <= min(turns, i-1); j++ {
			guesses += nCk(i-1, j-1) * k.starts * math.Pow(k.avgDegree, float64(j))
		}
	}
	return log10(guesses) + log10(variations(shifted, length-shifted))
}

// repeatMatches finds the longest repeated run starting at each position,
// like "aaaa" or "abcabc", and estimates its base recursively.
func (a *analysis) repeatMatches() {
	pw := a.pw
	for i := 0; i < len(pw)-1; {
		bestSpan, bestBase := 0, 0
		for base := 1; base <= (len(pw)-i)/2; base++ {
			reps := 1
			for reps*base+base <= len(pw)-i && equalRunes(pw[i:i+base], pw[i+reps*base:i+reps*base+base]) {
				reps++
			}
			if reps >= 2 && reps*base > bestSpan {
				bestSpan, bestBase = reps*base, base
			}
		}
		if bestSpan == 0 {
			i++
			continue
		}
		sub := analyze(pw[i:i+bestBase], a.emailParts, a.depth+1)
		a.add(match{i: i, j: i + bestSpan - 1, pattern: repeat, baseLen: bestBase,
			log: sub.log + log10(float64(bestSpan/bestBase))})
		i += bestSpan
	}
}

// sequenceMatches finds runs with a constant step, like "abcd", "9753"
// or "ACEG".
func (a *analysis) sequenceMatches() {
	pw := a.pw
	if len(pw) < 2 {
		return
	}
	i, last := 0, pw[1]-pw[0]
	for k := 2; k < len(pw); k++ {
		if delta := pw[k] - pw[k-1]; delta != last {
			a.addSequence(i, k-1, last)
			i, last = k-1, delta
		}
	}
	a.addSequence(i, len(pw)-1, last)
}

func (a *analysis) addSequence(i, j int, delta rune) {
	abs := max(delta, -delta)
	if abs == 0 || abs > maxDelta || (j-i < 2 && abs != 1) {
		return
	}
	first := a.pw[i]
	base := 26.0
	switch {
	case strings.ContainsRune("aAzZ019", first):
		base = 4
	case '0' <= first && first <= '9':
		base = 10
	}
	if delta < 0 {
		base *= 2
	}
	a.add(match{i: i, j: j, pattern: sequence, log: log10(base * float64(j-i+1))})
}

// yearMatches finds recent years, 1900 to 2029.
func (a *analysis) yearMatches() {
	pw := a.pw
	for i := 0; i+4 <= len(pw); {
		if y, ok := digits(pw[i : i+4]); ok && y >= 1900 && y <= 2029 {
			a.add(match{i: i, j: i + 3, pattern: year, log: log10(yearSpace(y))})
			i += 4
			continue
		}
		i++
	}
}

func yearSpace(y int) float64 {
	return float64(max(y-referenceYear, referenceYear-y, minYearSpace))
}

// dateMatches finds dates of 4 to 8 digits ("13111980", "1180") and dates
// with separators ("13.11.1980", "1980/11/13").
func (a *analysis) dateMatches() {
	pw := a.pw
	var found []match
	for i := 0; i+4 <= len(pw); i++ {
		for j := i + 3; j < len(pw) && j <= i+7; j++ {
			if pw[j] < '0' || pw[j] > '9' {
				break
			}
			if y, ok := bestDate(pw[i : j+1]); ok {
				found = append(found, match{i: i, j: j, pattern: date, log: log10(yearSpace(y) * 365)})
			}
		}
		for j := i + 5; j < len(pw) && j <= i+9; j++ {
			if y, ok := separatedDate(pw[i : j+1]); ok {
				found = append(found, match{i: i, j: j, pattern: date, separator: true,
					log: log10(yearSpace(y) * 365 * 4)})
			}
		}
	}
	// Drop dates inside longer dates: "1180" within "13111980".
	for _, m := range found {
		inside := false
		for _, o := range found {
			if o != m && o.i <= m.i && o.j >= m.j {
				inside = true
				break
			}
		}
		if !inside {
			a.add(m)
		}
	}
}

// dateSplits gives, per length of a digit-only date, where day, month and
// year may be split.
func dateSplits(n int) [][2]int {
	switch n {
	case 4:
		return [][2]int{{1, 2}, {2, 3}}
	case 5:
		return [][2]int{{1, 3}, {2, 3}}
	case 6:
		return [][2]int{{1, 2}, {2, 4}, {4, 5}}
	case 7:
		return [][2]int{{1, 3}, {2, 3}, {4, 5}, {4, 6}}
	case 8:
		return [][2]int{{2, 4}, {4, 6}}
	}
	return nil
}

// bestDate reads token (all digits) as a date, picking of the possible
// splits the one whose year is nearest the reference year.
func bestDate(token []rune) (year int, ok bool) {
	best := -1
	for _, s := range dateSplits(len(token)) {
		a, _ := digits(token[:s[0]])
		b, _ := digits(token[s[0]:s[1]])
		c, _ := digits(token[s[1]:])
		if y, ok := dmy(a, b, c); ok {
			if best < 0 || abs(y-referenceYear) < abs(best-referenceYear) {
				best = y
			}
		}
	}
	return best, best >= 0
}

// separatedDate matches d{1,4} sep d{1,2} sep d{1,4} with the same
// separator twice.
func separatedDate(token []rune) (year int, ok bool) {
	isSep := func(r rune) bool { return strings.ContainsRune(" /\\_.-", r) }
	first := 0
	for first < len(token) && first < 4 && '0' <= token[first] && token[first] <= '9' {
		first++
	}
	if first == 0 || first >= len(token) || !isSep(token[first]) {
		return 0, false
	}
	sep := token[first]
	mid := first + 1
	second := mid
	for second < len(token) && second-mid < 2 && '0' <= token[second] && token[second] <= '9' {
		second++
	}
	if second == mid || second >= len(token) || token[second] != sep {
		return 0, false
	}
	a, _ := digits(token[:first])
	b, _ := digits(token[mid:second])
	c, okc := digits(token[second+1:])
	if !okc || len(token)-second-1 > 4 {
		return 0, false
	}
	return dmy(a, b, c)
}

// dmy interprets three integers as a day, month and year in any of the
// usual orders, returning the four-digit year.
func dmy(a, b, c int) (int, bool) {
	if b > 31 || b <= 0 {
		return 0, false
	}
	over12, over31, under1 := 0, 0, 0
	for _, v := range [3]int{a, b, c} {
		if (99 < v && v < minDateYear) || v > maxDateYear {
			return 0, false
		}
		if v > 31 {
			over31++
		}
		if v > 12 {
			over12++
		}
		if v <= 0 {
			under1++
		}
	}
	if over31 >= 2 || over12 == 3 || under1 >= 2 {
		return 0, false
	}
	for _, s := range [2][3]int{{c, a, b}, {a, b, c}} {
		if minDateYear <= s[0] && s[0] <= maxDateYear {
			if dayMonth(s[1], s[2]) {
				return s[0], true
			}
			return 0, false
		}
	}
	for _, s := range [2][3]int{{c, a, b}, {a, b, c}} {
		if dayMonth(s[1], s[2]) {
			y := s[0]
			switch {
			case y > 99:
			case y > 50:
				y += 1900
			default:
				y += 2000
			}
			return y, true
		}
	}
	return 0, false
}

func dayMonth(a, b int) bool {
	return (1 <= a && a <= 31 && 1 <= b && b <= 12) || (1 <= b && b <= 31 && 1 <= a && a <= 12)
}

// digits parses an all-ASCII-digit run of at most 9 runes.
func digits(s []rune) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	v := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		v = v*10 + int(r-'0')
	}
	return v, true
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func abs(x int) int { return max(x, -x) }
