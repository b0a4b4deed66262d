package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

func appendBytes(b, s []byte) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

// reader decodes one frame. The first failure sticks: later reads return
// zero values, and err reports the first problem.
type reader struct {
	b   []byte
	err error
}

func newReader(frame []byte, kind byte) *reader {
	r := &reader{b: frame}
	switch {
	case len(frame) > MaxFrame:
		r.fail(fmt.Errorf("%w: %d bytes", ErrTooLarge, len(frame)))
	case len(frame) == 0:
		r.fail(fmt.Errorf("%w: empty", ErrFrame))
	case frame[0] == kindError:
		er := &reader{b: frame[1:]}
		msg := er.string(MaxFrame)
		if err := er.end(); err != nil {
			r.fail(err)
		} else {
			r.fail(&RemoteError{Message: msg})
		}
	case frame[0] != kind:
		r.fail(fmt.Errorf("%w: kind %q, want %q", ErrFrame, frame[0], kind))
	default:
		r.b = frame[1:]
	}
	return r
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(fmt.Errorf("%w: %s: need %d bytes, have %d", ErrFrame, what, n, len(r.b)))
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8(what string) byte {
	b := r.take(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32(what string) uint32 {
	b := r.take(4, what)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64(what string) uint64 {
	b := r.take(8, what)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// count reads a u32 element count, bounded by max and by the bytes left
// (each element takes at least minSize bytes), so that callers may size a
// slice by it.
func (r *reader) count(max, minSize int, what string) int {
	n := r.u32(what)
	if r.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		r.fail(fmt.Errorf("%w: %s: %d over limit %d", ErrTooLarge, what, n, max))
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)) {
		r.fail(fmt.Errorf("%w: %s: %d elements in %d bytes", ErrFrame, what, n, len(r.b)))
		return 0
	}
	return int(n)
}

// bytes reads a byte string of at most max bytes. The result aliases the
// frame; callers copy what they keep.
func (r *reader) bytes(max int, what string) []byte {
	n := r.u32(what)
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		r.fail(fmt.Errorf("%w: %s: %d bytes over limit %d", ErrTooLarge, what, n, max))
		return nil
	}
	return r.take(int(n), what)
}

// flag reads a u8 that must be 0 or 1.
func (r *reader) flag(what string) bool {
	switch v := r.u8(what); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(fmt.Errorf("%w: %s flag %d", ErrFrame, what, v))
		return false
	}
}

func (r *reader) string(max int) string { return string(r.bytes(max, "string")) }

func (r *reader) text(what string) string { return string(r.bytes(MaxText, what)) }

// end reports the first error, or trailing bytes.
func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrFrame, len(r.b))
	}
	return r.err
}

// Value tags, the SQLite storage classes.
const (
	tagNull  = 0
	tagInt   = 1
	tagFloat = 2
	tagText  = 3
	tagBlob  = 4
)

// appendValue encodes v, which must be nil, int64, float64, string or
// []byte.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case int64:
		return appendU64(append(b, tagInt), uint64(v)), nil
	case float64:
		return appendU64(append(b, tagFloat), math.Float64bits(v)), nil
	case string:
		return appendString(append(b, tagText), v), nil
	case []byte:
		return appendBytes(append(b, tagBlob), v), nil
	default:
		return b, fmt.Errorf("%w: unsupported value type %T", ErrFrame, v)
	}
}

func (r *reader) value() any {
	switch tag := r.u8("value tag"); tag {
	case tagNull:
		return nil
	case tagInt:
		return int64(r.u64("int"))
	case tagFloat:
		return math.Float64frombits(r.u64("float"))
	case tagText:
		return string(r.bytes(MaxFrame, "text"))
	case tagBlob:
		b := r.bytes(MaxFrame, "blob")
		return append(make([]byte, 0, len(b)), b...)
	default:
		r.fail(fmt.Errorf("%w: value tag %d", ErrFrame, tag))
		return nil
	}
}
