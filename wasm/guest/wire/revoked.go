package wire

import "fmt"

// AppendRevoked appends a 'V' frame: sessions have ended early, so the
// host may wake the revocation feed reads it holds. It carries nothing;
// the events themselves are in the store.
func AppendRevoked(b []byte) []byte { return append(b, kindRevoked) }

// ParseRevoked decodes a 'V' frame.
func ParseRevoked(frame []byte) error {
	if err := newReader(frame, kindRevoked).end(); err != nil {
		return fmt.Errorf("wire: revoked: %w", err)
	}
	return nil
}
