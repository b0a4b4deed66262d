package testharness

import "errors"

// ErrConfig is wrapped by every error about an invalid Config or key set.
var ErrConfig = errors.New("testharness: invalid config")
