package oauth

import (
	"context"
	"net/http"
	"time"
)

// Fetcher makes the engine's outbound HTTP requests: a provider's
// discovery document, its token endpoint, its keys and its user endpoint.
// It is a host capability like the engine's Signer and Mailer: the Worker
// fetches through the Workers runtime (keeping Go's HTTP client out of its
// build), the Go hosts through net/http. See RATIONALE.md, "Why is
// outbound HTTP a host capability?".
//
// The engine checks every URL against the configured providers before it
// asks (Provider.allows), so a Fetcher need not know them. A Fetcher must:
// not follow redirects (a 3xx is answered as it came); give up after
// Timeout; read at most MaxResponseBody bytes of a body and fail when
// there are more; refuse schemes other than http and https.
type Fetcher interface {
	Fetch(ctx context.Context, req *Request) (*Response, error)
}

// Request is one outbound request.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Response is the answer to a Request, its body read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Bounds every Fetcher keeps.
const (
	// MaxResponseBody is the largest body a Fetcher reads: discovery
	// documents, key sets and token answers are a few KiB.
	MaxResponseBody = 1 << 20
	// Timeout is how long a Fetcher waits for one whole answer.
	Timeout = 10 * time.Second
)
