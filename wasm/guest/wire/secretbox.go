package wire

import "fmt"

// AppendSeal appends a 'B' frame: seal plaintext under the host's key.
func AppendSeal(b, plaintext []byte) []byte { return appendBytes(append(b, kindSeal), plaintext) }

// ParseSeal decodes a 'B' frame.
func ParseSeal(frame []byte) ([]byte, error) {
	return parseBox(frame, kindSeal, MaxPlaintext, "seal", "plaintext")
}

// AppendSealed appends a 'b' frame, the answer to a 'B' frame.
func AppendSealed(b, sealed []byte) []byte { return appendBytes(append(b, kindSealed), sealed) }

// ParseSealed decodes a 'b' frame, or returns the *RemoteError of an 'E'
// frame.
func ParseSealed(frame []byte) ([]byte, error) {
	return parseBox(frame, kindSealed, MaxSealed, "sealed", "sealed value")
}

// AppendOpen appends an 'O' frame: open sealed with the host's key.
func AppendOpen(b, sealed []byte) []byte { return appendBytes(append(b, kindOpen), sealed) }

// ParseOpen decodes an 'O' frame.
func ParseOpen(frame []byte) ([]byte, error) {
	return parseBox(frame, kindOpen, MaxSealed, "open", "sealed value")
}

// AppendOpened appends an 'o' frame, the answer to an 'O' frame.
func AppendOpened(b, plaintext []byte) []byte { return appendBytes(append(b, kindOpened), plaintext) }

// ParseOpened decodes an 'o' frame, or returns the *RemoteError of an 'E'
// frame.
func ParseOpened(frame []byte) ([]byte, error) {
	return parseBox(frame, kindOpened, MaxPlaintext, "opened", "plaintext")
}

// parseBox decodes the one byte string, of at most max bytes, that each
// secret box frame carries. The result is a copy, never nil.
func parseBox(frame []byte, kind byte, max int, name, what string) ([]byte, error) {
	r := newReader(frame, kind)
	v := r.bytes(max, what)
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: %s: %w", name, err)
	}
	return append([]byte{}, v...), nil
}
