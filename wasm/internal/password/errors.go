package password

import "errors"

var (
	// ErrInvalidParams reports hashing parameters outside the accepted
	// bounds, either in a Hasher's configuration or in a stored hash.
	ErrInvalidParams = errors.New("password: invalid parameters")

	// ErrMalformedHash reports a stored hash that does not parse as a PHC
	// string of the supported form.
	ErrMalformedHash = errors.New("password: malformed hash")

	// ErrUnsupportedHash reports a well-formed stored hash made with an
	// algorithm or version this package does not verify.
	ErrUnsupportedHash = errors.New("password: unsupported hash")

	// ErrTooLong reports a password longer than MaxLength bytes.
	ErrTooLong = errors.New("password: too long")

	// ErrRandom reports a failure to read the salt from the random source.
	ErrRandom = errors.New("password: reading random salt")
)
