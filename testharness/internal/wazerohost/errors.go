package wazerohost

import "errors"

// ErrConfig is wrapped by every error about an invalid Config or key set.
var ErrConfig = errors.New("testharness: invalid config")

// Why a request failed in the host, mapped to 503 and 504 by ServeHTTP.
var (
	errNoInstance   = errors.New("testharness: no guest instance free before the request timeout")
	errGuestTimeout = errors.New("testharness: guest did not answer before the request timeout")
	errClosed       = errors.New("testharness: server closed")
)
