package verifier

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// scanner is a small pull parser for the JSON in a JWT's header and
// claims. It reads ASCII strings without escapes (all a Latch token holds)
// as zero-copy substrings of its input and hands anything else to
// encoding/json, so it accepts what encoding/json accepts while
// allocating almost nothing, with one deliberate difference: an object
// that repeats a member name fails (encoding/json takes the last). See RATIONALE.md, "Why a hand-written claims
// parser?".
//
// Methods do nothing once bad is set; callers check it at the end.
type scanner struct {
	s   string
	i   int
	bad bool
	// bigNumbers accepts numbers beyond the range of float64 (1e400),
	// which a JWT never holds: Latch refuses to mint them. Only the
	// reader of the edge's answers sets it; see readCustomClaim.
	bigNumbers bool
}

const maxDepth = 32

func (sc *scanner) fail() { sc.bad = true; sc.i = len(sc.s) }

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) peek() byte {
	sc.ws()
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *scanner) consume(c byte) bool {
	if sc.peek() == c {
		sc.i++
		return true
	}
	return false
}

func (sc *scanner) expect(c byte) {
	if !sc.consume(c) {
		sc.fail()
	}
}

// end checks that nothing but white space follows.
func (sc *scanner) end() {
	sc.ws()
	if sc.i != len(sc.s) {
		sc.fail()
	}
}

// more advances over the members of an object or array whose opening
// bracket has been consumed: it consumes the separator or the closing
// bracket and reports whether another member follows.
func (sc *scanner) more(closer byte, first *bool) bool {
	if sc.bad {
		return false
	}
	if sc.consume(closer) {
		return false
	}
	if !*first && !sc.consume(',') {
		sc.fail()
		return false
	}
	if *first && sc.peek() == ',' {
		sc.fail()
		return false
	}
	*first = false
	return true
}

// key reads an object member's name and the colon after it. seen holds
// the names already read in the same object: a name read twice fails the
// scan, so no member can hide behind a later one of the same name (which
// encoding/json would silently take). Names are compared after unescaping,
// so "\u0069ss" repeats "iss".
func (sc *scanner) key(seen *names) string {
	k := sc.str()
	if !sc.bad && !seen.add(k) {
		sc.fail()
		return ""
	}
	sc.expect(':')
	return k
}

// names is the set of member names of one JSON object. The first few
// live in an array on the stack, which covers every object a Latch token
// holds; a larger object spills into a map.
type names struct {
	small [12]string
	n     int
	big   map[string]struct{}
}

// add records k and reports whether it was new.
func (ns *names) add(k string) bool {
	if ns.big != nil {
		if _, dup := ns.big[k]; dup {
			return false
		}
		ns.big[k] = struct{}{}
		return true
	}
	for _, s := range ns.small[:ns.n] {
		if s == k {
			return false
		}
	}
	if ns.n < len(ns.small) {
		ns.small[ns.n] = k
		ns.n++
		return true
	}
	ns.big = make(map[string]struct{}, 2*len(ns.small))
	for _, s := range ns.small {
		ns.big[s] = struct{}{}
	}
	ns.big[k] = struct{}{}
	return true
}

// null consumes a JSON null if one is next.
func (sc *scanner) null() bool {
	if sc.peek() == 'n' && len(sc.s)-sc.i >= 4 && sc.s[sc.i:sc.i+4] == "null" {
		sc.i += 4
		return true
	}
	return false
}

// boolean reads true or false.
func (sc *scanner) boolean() bool {
	for _, lit := range [...]string{"false", "true"} {
		if sc.peek() == lit[0] && len(sc.s)-sc.i >= len(lit) && sc.s[sc.i:sc.i+len(lit)] == lit {
			sc.i += len(lit)
			return lit == "true"
		}
	}
	sc.fail()
	return false
}

// str reads a string. Plain ASCII is returned as a substring of the
// input; escapes and non-ASCII bytes go through encoding/json.
func (sc *scanner) str() string {
	if sc.peek() != '"' {
		sc.fail()
		return ""
	}
	start := sc.i + 1
	for j := start; j < len(sc.s); j++ {
		switch strClass[sc.s[j]] {
		case 0:
			continue
		case 1:
			sc.i = j + 1
			return sc.s[start:j]
		default:
			return sc.slowStr(start - 1)
		}
	}
	sc.fail()
	return ""
}

// strClass sorts string bytes: 0 printable ASCII, 1 the closing quote,
// 2 a backslash, control byte, DEL or non-ASCII byte, all of which go to
// encoding/json (which rejects control bytes and may rewrite the rest).
var strClass = func() (t [256]byte) {
	for i := range t {
		if i < 0x20 || i >= 0x7f || i == '\\' {
			t[i] = 2
		}
	}
	t['"'] = 1
	return t
}()

func (sc *scanner) slowStr(open int) string {
	j := open + 1
	for ; j < len(sc.s) && sc.s[j] != '"'; j++ {
		if sc.s[j] == '\\' {
			j++
		}
	}
	if j >= len(sc.s) {
		sc.fail()
		return ""
	}
	var out string
	if err := json.Unmarshal([]byte(sc.s[open:j+1]), &out); err != nil {
		sc.fail()
		return ""
	}
	sc.i = j + 1
	return out
}

// number reads a JSON number and returns its text. Unless bigNumbers is
// set, a number that is not a finite float64 (1e400, or an integer of
// more than 308 digits) fails, as encoding/json fails to decode it into
// any, so that no value the verifier skips could fail to decode elsewhere.
func (sc *scanner) number() string {
	sc.ws()
	start, j := sc.i, sc.i
	digits := func() int {
		k := j
		for j < len(sc.s) && sc.s[j] >= '0' && sc.s[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(sc.s) && sc.s[j] == '-' {
		j++
	}
	if j < len(sc.s) && sc.s[j] == '0' {
		j++
	} else if digits() == 0 {
		sc.fail()
		return ""
	}
	if j < len(sc.s) && sc.s[j] == '.' {
		j++
		if digits() == 0 {
			sc.fail()
			return ""
		}
	}
	if j < len(sc.s) && (sc.s[j] == 'e' || sc.s[j] == 'E') {
		j++
		if j < len(sc.s) && (sc.s[j] == '+' || sc.s[j] == '-') {
			j++
		}
		if digits() == 0 {
			sc.fail()
			return ""
		}
	}
	sc.i = j
	t := sc.s[start:j]
	if !sc.bigNumbers && (j-start > 15 || strings.ContainsAny(t, "eE")) {
		if f, err := strconv.ParseFloat(t, 64); err != nil || math.IsInf(f, 0) {
			sc.fail()
			return ""
		}
	}
	return t
}

// seconds reads a NumericDate. Fractions are rounded down (roundUp false)
// or up, whichever makes the check stricter.
func (sc *scanner) seconds(roundUp bool) int64 {
	t := sc.number()
	if sc.bad {
		return 0
	}
	if len(t) <= 18 {
		var n int64
		neg := t[0] == '-'
		k := 0
		if neg {
			k = 1
		}
		for ; k < len(t) && t[k] >= '0' && t[k] <= '9'; k++ {
			n = n*10 + int64(t[k]-'0')
		}
		if k == len(t) {
			if neg {
				return -n
			}
			return n
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		sc.fail()
		return 0
	}
	if roundUp {
		f = math.Ceil(f)
	} else {
		f = math.Floor(f)
	}
	switch {
	case f >= math.MaxInt64/2:
		return math.MaxInt64 / 2
	case f <= math.MinInt64/2:
		return math.MinInt64 / 2
	}
	return int64(f)
}

// skip reads any value and returns its text.
func (sc *scanner) skip() string {
	sc.ws()
	start := sc.i
	sc.skipValue(0)
	if sc.bad {
		return ""
	}
	return sc.s[start:sc.i]
}

func (sc *scanner) skipValue(depth int) {
	if depth > maxDepth {
		sc.fail()
		return
	}
	switch c := sc.peek(); {
	case c == '"':
		sc.str()
	case c == '{':
		sc.i++
		var seen names
		for first := true; sc.more('}', &first); {
			sc.key(&seen)
			sc.skipValue(depth + 1)
		}
	case c == '[':
		sc.i++
		for first := true; sc.more(']', &first); {
			sc.skipValue(depth + 1)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		sc.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(sc.s)-sc.i >= len(lit) && sc.s[sc.i:sc.i+len(lit)] == lit {
				sc.i += len(lit)
				return
			}
		}
		sc.fail()
	}
}

// strings reads an array of strings, or a single string, or null.
func (sc *scanner) strings(dst []string) []string {
	if sc.null() {
		return dst
	}
	if sc.peek() == '"' {
		return append(dst, sc.str())
	}
	sc.expect('[')
	for first := true; sc.more(']', &first); {
		dst = append(dst, sc.str())
	}
	return dst
}

// optStr reads a string or null.
func (sc *scanner) optStr() string {
	if sc.null() {
		return ""
	}
	return sc.str()
}

// time reads an RFC 3339 string, or null or "" for the zero time.
func (sc *scanner) time() time.Time {
	s := sc.optStr()
	if s == "" || sc.bad {
		return time.Time{}
	}
	if t, ok := parseUTC(s); ok {
		return t
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		sc.fail()
	}
	return t
}

// parseUTC parses the one form Latch writes, 2006-01-02T15:04:05Z,
// without the generality of time.Parse.
func parseUTC(s string) (time.Time, bool) {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	var v [6]int
	for k, pos := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for p := pos[0]; p < pos[1]; p++ {
			c := s[p]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			v[k] = v[k]*10 + int(c-'0')
		}
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, false
	}
	if v[2] > daysIn(v[0], v[1]) {
		return time.Time{}, false
	}
	secs := daysFromCivil(v[0], v[1], v[2])*86400 + int64(v[3]*3600+v[4]*60+v[5])
	t := time.Unix(secs, 0).UTC()
	return t, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 { // year 0 in January or February
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
