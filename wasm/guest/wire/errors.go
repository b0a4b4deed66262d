package wire

import "errors"

// ErrFrame is wrapped by every error about a malformed frame.
var ErrFrame = errors.New("wire: malformed frame")

// ErrTooLarge is wrapped when a frame or a field exceeds its limit.
var ErrTooLarge = errors.New("wire: frame too large")

// RemoteError is an 'E' frame: the peer could not answer. Its message is the
// peer's, unchanged, so callers can match on it (for example SQLite's
// "UNIQUE constraint failed").
type RemoteError struct {
	Message string
}

func (e *RemoteError) Error() string { return e.Message }
