package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"
)

// defaultWebAuthnOrigins are the origins passkey ceremonies may come from
// when no -webauthn-origin is given: the example origin's under the name a
// browser accepts as a relying party ID (an IP address is not one).
var defaultWebAuthnOrigins = []string{"http://localhost:3000"}

// webauthnFlags are the passkey settings. See testharness/README.md,
// "latch-local".
type webauthnFlags struct {
	origins stringList
}

func (f *webauthnFlags) register(fl *flag.FlagSet) {
	fl.Var(&f.origins, "webauthn-origin", "origin (scheme://host[:port]) passkey and security key ceremonies may come from; repeatable (default http://localhost:3000)")
}

// check returns the origins, or the first that is not one; the engine
// then refuses what is not https or http on a loopback host.
func (f *webauthnFlags) check() ([]string, error) {
	raw := []string(f.origins)
	if len(raw) == 0 {
		raw = defaultWebAuthnOrigins
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("-webauthn-origin %q is not scheme://host[:port]", r)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}
