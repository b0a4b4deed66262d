package main

import (
	"flag"
	"fmt"

	"github.com/latchauth/latch/wasm/sdk"
)

// defaultSDKOrigins are the origins the SDK surface serves when no
// -sdk-origin is given: the example origin's, under both of its names.
var defaultSDKOrigins = []string{"http://127.0.0.1:3000", "http://localhost:3000"}

// sdkFlags are the SDK surface's settings. The surface is always on; its
// public token is kept in credentials.json. See testharness/README.md,
// "latch-local".
type sdkFlags struct {
	origins stringList
}

func (f *sdkFlags) register(fl *flag.FlagSet) {
	fl.Var(&f.origins, "sdk-origin", "origin (scheme://host[:port]) whose pages may call the frontend SDK surface /sdk/v1; repeatable (default http://127.0.0.1:3000 and http://localhost:3000)")
}

// check returns the origins, each as a browser sends it, or the first
// that is not an origin.
func (f *sdkFlags) check() ([]string, error) {
	raw := []string(f.origins)
	if len(raw) == 0 {
		raw = defaultSDKOrigins
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		o, err := sdk.ParseOrigin(r)
		if err != nil {
			return nil, fmt.Errorf("-sdk-origin: %w", err)
		}
		out = append(out, o)
	}
	return out, nil
}
