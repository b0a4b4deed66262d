// Package oauth is Latch's side of social login: the providers'
// configuration, and the conversation with one provider — the
// authorization URL, the code exchange, the ID token's checks against the
// provider's keys (OpenID Connect) or the user endpoint (GitHub) — over
// the host's Fetcher. The engine owns what is stored and what is answered
// (wasm/engine, oauth*.go); this package owns what is said to providers.
package oauth
