package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/latchauth/latch/wasm/oauth"
)

// callbackPath is the engine's OAuth callback, which providers are told
// to send browsers back to.
const callbackPath = "/v1/oauth/callback"

// maxProvidersFile bounds what is read of -oauth-providers; the document
// itself is bounded lower, by oauth.ParseProviders.
const maxProvidersFile = 1 << 20

// oauthFlags are social login's settings. See testharness/README.md,
// "Social login in latch-local".
type oauthFlags struct {
	providers string
	baseURL   string
}

func (f *oauthFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&f.providers, "oauth-providers", "", "JSON file of the social login providers, client secrets included (mode 0600); no social login when empty")
	fl.StringVar(&f.baseURL, "base-url", "", "where browsers reach latch-local, scheme://host[:port]; providers send them back to it + "+callbackPath+" (default http://127.0.0.1:<port>)")
}

// check validates -base-url, after Parse.
func (f *oauthFlags) check() error {
	if f.baseURL == "" {
		return nil
	}
	u, err := url.Parse(f.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("-base-url %q is not an http or https origin, scheme://host[:port] with no path", f.baseURL)
	}
	f.baseURL = strings.TrimSuffix(f.baseURL, "/")
	return nil
}

// load reads the providers document, or returns nil without
// -oauth-providers. The file holds client secrets: one that group or
// others may read or write is refused, and a document
// oauth.ParseProviders refuses is reported in its words, which never
// quote the file.
func (f *oauthFlags) load() ([]byte, error) {
	if f.providers == "" {
		return nil, nil
	}
	file, err := os.Open(f.providers)
	if err != nil {
		return nil, fmt.Errorf("-oauth-providers: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("-oauth-providers: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("-oauth-providers: %s is not a regular file", f.providers)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("-oauth-providers: %s holds client secrets but is open to group or others (mode %04o); run chmod 600 %s", f.providers, perm, f.providers)
	}
	doc, err := io.ReadAll(io.LimitReader(file, maxProvidersFile+1))
	if err != nil {
		return nil, fmt.Errorf("-oauth-providers: %w", err)
	}
	if len(doc) > maxProvidersFile {
		return nil, fmt.Errorf("-oauth-providers: %s is larger than %d bytes", f.providers, maxProvidersFile)
	}
	if _, err := oauth.ParseProviders(doc); err != nil {
		return nil, fmt.Errorf("-oauth-providers: %s: %w", f.providers, err)
	}
	return doc, nil
}

// providerNames lists the providers of doc, which load accepted, for
// the banner.
func providerNames(doc []byte) string {
	providers, _ := oauth.ParseProviders(doc)
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
