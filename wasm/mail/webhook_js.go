//go:build js

package mail

import (
	"context"
	"errors"
	"net/http"
)

// clientPost refuses: on js/wasm the Webhook's Post makes the posts, so
// that Go's HTTP client stays out of the Worker's build.
func (w *Webhook) clientPost(context.Context, string, http.Header, []byte) (int, error) {
	return 0, errors.New("mail: webhook: no Post function on js/wasm")
}
