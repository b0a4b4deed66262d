package wazerohost

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/oauth"
)

// oauthSettings checks the OAuth fields of cfg and returns the fetcher
// the host makes the guest's requests with: nil without providers, so
// that a guest without them is not offered outbound HTTP. The engine in
// the guest reads the document again when it is configured.
func oauthSettings(cfg *Config) (oauth.Fetcher, error) {
	providers, err := oauth.ParseProviders(cfg.OAuthProviders)
	if err != nil {
		return nil, fmt.Errorf("%w: OAuthProviders: %w", ErrConfig, err)
	}
	if len(cfg.BaseURL) > wire.MaxText {
		return nil, fmt.Errorf("%w: BaseURL of %d bytes", ErrConfig, len(cfg.BaseURL))
	}
	cfg.OAuthProviders = slices.Clone(cfg.OAuthProviders)
	if len(providers) == 0 {
		return nil, nil
	}
	return oauth.NewHTTPFetcher(nil), nil
}

// fetchFrame makes the guest's request with the host's fetcher and
// answers with what came back, or fails with the fetcher's reason (no
// answer in time, a body over oauth.MaxResponseBody, a refused scheme) or
// because the answer is over the frame's bounds.
func (s *Server) fetchFrame(ctx context.Context, frame []byte) ([]byte, error) {
	f, err := wire.ParseFetch(frame)
	if err != nil {
		return nil, err
	}
	if s.fetcher == nil {
		return nil, fmt.Errorf("testharness: no outbound HTTP")
	}
	resp, err := s.fetcher.Fetch(ctx, &oauth.Request{Method: f.Method, URL: f.URL, Header: f.Header, Body: f.Body})
	if err != nil {
		return nil, err
	}
	return wire.AppendFetched(nil, &wire.Fetched{Status: resp.Status, Header: resp.Header, Body: resp.Body})
}
