package mailbox

import (
	"io"
	"net/http"
	"time"

	"github.com/latchauth/latch/wasm/mail"
)

// WebhookHandler receives the engine's mail webhook (mail.Webhook): a
// post whose signature verifies under secret goes into b and is answered
// 204; anything else is refused without being stored.
func WebhookHandler(b *Mailbox, secret []byte) http.Handler {
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
		p, err := mail.Verify(secret, r.Header, body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		b.Add(&Message{Via: "webhook", From: p.From, To: p.To, Subject: p.Subject, Text: p.Text, HTML: p.HTML, Kind: p.Kind})
		w.WriteHeader(http.StatusNoContent)
	})
}
