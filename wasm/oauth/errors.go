package oauth

import "errors"

// ErrConfig is wrapped by every error about the providers configuration.
var ErrConfig = errors.New("oauth: invalid provider configuration")

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
