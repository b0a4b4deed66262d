package mailbox

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/latchauth/latch/wasm/mail"
)

// webhookMaxAge is how far a post's timestamp may be from now.
const webhookMaxAge = 5 * time.Minute

// WebhookHandler receives the engine's mail webhook (mail.Webhook): a
// post whose signature verifies under secret, with a timestamp within
// five minutes and an id not taken before, goes into b and is answered
// 204; anything else is refused without being stored — 401 for a bad
// signature, 400 for a payload without an id, 409 for an id already
// taken (a replayed post, or a retry of one whose answer was lost).
//
// Unlike Handler it answers under any Host: the signature, not the Host,
// is what keeps it from taking forged mail — a web page can post to a
// loopback address without rebinding any name — and it answers nothing
// a page could read. A Host check would only stop a sender that reaches
// it through a tunnel or by another name.
func WebhookHandler(b *Mailbox, secret []byte) http.Handler {
	ids := newSeenIDs(2*webhookMaxAge, maxSeenIDs)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		now := time.Now()
		p, err := mail.Verify(secret, r.Header, body, now, webhookMaxAge)
		switch {
		case errors.Is(err, mail.ErrBadPayload):
			http.Error(w, "payload is not a message with an id", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		switch err := ids.add(p.ID, now); {
		case errors.Is(err, errSeen):
			http.Error(w, "message id already received", http.StatusConflict)
			return
		case err != nil:
			w.Header().Set("Retry-After", "60")
			http.Error(w, "too many messages in the last ten minutes", http.StatusServiceUnavailable)
			return
		}
		b.Add(&Message{Via: "webhook", From: p.From, To: p.To, Subject: p.Subject, Text: p.Text, HTML: p.HTML, Kind: p.Kind})
		w.WriteHeader(http.StatusNoContent)
	})
}
