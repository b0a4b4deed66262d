package verifier

import "encoding/binary"

// b64Values maps each base64url character to its 6-bit value and every
// other byte to 0xff.
var b64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodedLen is the length of the bytes encoded by n characters of
// unpadded base64url, or -1 if no such encoding has n characters.
func decodedLen(n int) int {
	if n%4 == 1 {
		return -1
	}
	return n/4*3 + max(n%4-1, 0)
}

// decodeSegment decodes unpadded base64url src into dst, which must hold
// decodedLen(len(src)) bytes, without converting src to a []byte. It
// accepts only the canonical encoding (no padding, unused bits zero).
func decodeSegment(dst []byte, src string) (int, bool) {
	n := decodedLen(len(src))
	if n < 0 || n > len(dst) {
		return 0, false
	}
	t := &b64Values
	var bad byte
	si, di := 0, 0
	// Eight characters make six bytes; write them as one 8-byte store
	// while dst has room for the two bytes of slack.
	for ; len(src)-si >= 8 && len(dst)-di >= 8; si, di = si+8, di+6 {
		s := src[si : si+8]
		a, b, c, d := t[s[0]], t[s[1]], t[s[2]], t[s[3]]
		e, f, g, h := t[s[4]], t[s[5]], t[s[6]], t[s[7]]
		bad |= a | b | c | d | e | f | g | h
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		binary.BigEndian.PutUint64(dst[di:], v)
	}
	for ; len(src)-si >= 4; si, di = si+4, di+3 {
		a, b, c, d := t[src[si]], t[src[si+1]], t[src[si+2]], t[src[si+3]]
		bad |= a | b | c | d
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch len(src) - si {
	case 2:
		a, b := t[src[si]], t[src[si+1]]
		bad |= a | b
		if b&0x0f != 0 {
			return 0, false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a, b, c := t[src[si]], t[src[si+1]], t[src[si+2]]
		bad |= a | b | c
		if c&0x03 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6
		dst[di], dst[di+1] = byte(v>>16), byte(v>>8)
	}
	if bad&0xc0 != 0 {
		return 0, false
	}
	return n, true
}
