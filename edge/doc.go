// Command edge is Latch's Cloudflare Worker: the session engine built for
// GOOS=js GOARCH=wasm, served by workerd through the JavaScript glue in
// worker.mjs.
//
// The glue instantiates this program once per isolate and keeps it alive;
// main wires the engine from the Worker environment (D1 binding DB, var
// LATCH_PROJECT_ID, secret LATCH_PROJECT_SECRET, and the WebCrypto signer the
// glue builds from secret LATCH_SIGNING_KEYS, the WebCrypto SecretBox it
// builds from secret LATCH_SECRET_BOX_KEY (optional: without it the TOTP
// endpoints answer 503), and the mail transport
// LATCH_MAIL names: the send_email binding MAIL, through the glue, or the
// signed webhook, posted through the glue's fetch; and, with the Durable
// Object binding REVOCATIONS, the glue's notify of the revocation feed's
// object as engine.Config.Revoked), puts the surface Stytch's frontend
// SDKs call (wasm/sdk, /sdk/v1/...) in front of it when LATCH_PUBLIC_TOKEN
// is set, for the pages of the origins in LATCH_SDK_ORIGINS, turns on
// social login for the providers of secret LATCH_OAUTH_PROVIDERS (with
// the public token, the secret box, LATCH_BASE_URL when set, and the
// glue's fetch as the engine's oauth.Fetcher), and the
// hosted login page (wasm/loginpage) in front of both when
// LATCH_LOGIN_URL is set, its posts counted by the Rate Limiting binding
// LOGIN_LIMIT when there is one, registers a request handler on the
// glue's binding object, and waits for requests. See RATIONALE.md, "Why
// one long-lived Go instance per isolate?", "Why does the signing key stay in
// WebCrypto?", "Why does the Worker's secret box key stay in WebCrypto?",
// "How does the Worker send mail?", "Why does a Durable Object hold the
// feed's waiting reads?" and "Why is outbound HTTP a host capability?".
//
// Build it with `make build` (or the [build] command in wrangler.toml); the
// output lands in edge/build/.
package main
