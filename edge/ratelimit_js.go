//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
)

// bindingLoginLimit is the login page's Rate Limiting binding
// ([[ratelimits]] in wrangler.toml). See RATIONALE.md, "What rate limits
// does the login page add?".
const bindingLoginLimit = "LOGIN_LIMIT"

// rateLimit returns a Config.Limit over the binding, or nil when the Worker
// has none: the login page's (prefix "login:") and the SDK surface's
// ("sdk:") count their clients apart in it. The binding is looked up on
// each call in the env of the request being served.
func rateLimit(env js.Value, prefix string) func(context.Context, string) (bool, error) {
	if env.Get(bindingLoginLimit).Type() != js.TypeObject {
		return nil
	}
	return func(ctx context.Context, key string) (ok bool, err error) {
		defer func() {
			if r := recover(); r != nil {
				ok, err = false, fmt.Errorf("edge: %s.limit threw: %v", bindingLoginLimit, r)
			}
		}()
		b := js.Global().Get("context").Get("env").Get(bindingLoginLimit)
		if b.Type() != js.TypeObject {
			return false, errors.New("edge: the " + bindingLoginLimit + " binding is gone")
		}
		opts := js.Global().Get("Object").New()
		opts.Set("key", prefix+key)
		v, err := await(ctx, b.Call("limit", opts))
		if err != nil {
			return false, fmt.Errorf("edge: %s.limit: %w", bindingLoginLimit, err)
		}
		if s := v.Get("success"); s.Type() == js.TypeBoolean {
			return s.Bool(), nil
		}
		return false, errors.New("edge: " + bindingLoginLimit + ".limit answered without success")
	}
}
