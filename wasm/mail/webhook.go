package mail

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// The webhook's headers: when the body was signed (Unix seconds), and
// "v1=" and the hex HMAC-SHA256 of the timestamp, a ".", and the body,
// under the shared secret.
const (
	TimestampHeader = "Latch-Timestamp"
	SignatureHeader = "Latch-Signature"
)

// Payload is the JSON body the webhook posts.
type Payload struct {
	// ID names the message: 32 random hex digits, the same on every try
	// of one message, so that a receiver can refuse a post it has
	// already taken (see RATIONALE.md, "Why does the mail webhook carry
	// an id?"). Verify requires one of 1 to 128 bytes.
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	From    string `json:"from"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Webhook delivers mail by posting it, signed, to the app's own mailer.
// A 2xx answer is delivery; a 5xx answer or a network error is tried
// again (three tries in all), with the message's id unchanged, and a 409
// to such a retry is delivery too: the receiver already took the
// message from a try whose answer was lost. Any other answer fails at
// once.
type Webhook struct {
	// URL receives the posts; https unless on loopback.
	URL string
	// Secret keys the signature; at least 32 bytes.
	Secret []byte
	// Client makes the posts; one with a 10 second timeout when nil.
	Client *http.Client
	// Post, when set, makes the posts instead of Client and returns the
	// answer's status: the Worker posts through the Fetch API this way,
	// and its build then carries none of Go's HTTP client (megabytes of
	// Wasm). On js/wasm a Webhook without Post cannot send.
	Post func(ctx context.Context, url string, header http.Header, body []byte) (int, error)
	// Now is the clock of the timestamp; time.Now when nil.
	Now func() time.Time
	// Rand is the source of the message ids; crypto/rand when nil.
	Rand io.Reader
	// Backoff is the wait before each retry; 250 ms, then 1 s, when nil.
	Backoff []time.Duration
}

var _ engine.Mailer = (*Webhook)(nil)

// Send posts m, retrying as the Webhook doc says.
func (w *Webhook) Send(ctx context.Context, m *engine.Message) error {
	id, err := w.newID()
	if err != nil {
		return err
	}
	body, err := json.Marshal(Payload{ID: id, Kind: m.Kind, From: m.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	if err != nil {
		return fmt.Errorf("mail: webhook: %w", err)
	}
	backoff := w.Backoff
	if backoff == nil {
		backoff = []time.Duration{250 * time.Millisecond, time.Second}
	}
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body, attempt > 0)
		if err == nil || !retry || attempt >= len(backoff) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mail: webhook: %w (after %v)", ctx.Err(), err)
		case <-time.After(backoff[attempt]):
		}
	}
}

// newID returns a message id: 128 random bits in hex.
func (w *Webhook) newID() (string, error) {
	r := w.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("mail: webhook id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// post makes one try and reports whether a failure may be retried; a
// retry takes a 409 as delivery.
func (w *Webhook) post(ctx context.Context, body []byte, retry bool) (bool, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	header := http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set(TimestampHeader, ts)
	header.Set(SignatureHeader, "v1="+Sign(w.Secret, ts, body))
	poster := w.Post
	if poster == nil {
		poster = w.clientPost
	}
	status, err := poster(ctx, w.URL, header, body)
	switch {
	case err != nil:
		return true, fmt.Errorf("mail: webhook: %w", err)
	case status >= 200 && status < 300, retry && status == http.StatusConflict:
		return false, nil
	case status >= 500:
		return true, fmt.Errorf("mail: webhook: status %d", status)
	}
	return false, fmt.Errorf("mail: webhook: status %d", status)
}

// Sign returns the hex HMAC-SHA256 of timestamp "." body under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify's errors: a post not signed with the secret, or signed too long
// ago; a signed body that is not a payload with an id.
var (
	ErrBadSignature = errors.New("mail: webhook signature does not verify")
	ErrBadPayload   = errors.New("mail: webhook payload is not valid")
)

// Verify checks a webhook post as a receiver should — the signature in
// constant time, the timestamp within maxAge of now, a payload with an
// id — and returns its payload. body is the request body, read in full.
// Verify alone lets a captured post be replayed within maxAge, so a
// receiver should also refuse an id it has taken in the last 2×maxAge
// (a timestamp up to maxAge ahead of now verifies, and keeps verifying
// until maxAge after it), as mailbox.WebhookHandler does.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, maxAge time.Duration) (*Payload, error) {
	ts := header.Get(TimestampHeader)
	sig, ok := strings.CutPrefix(header.Get(SignatureHeader), "v1=")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return nil, ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return nil, fmt.Errorf("%w: timestamp %ds off", ErrBadSignature, int64(d/time.Second))
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, ErrBadSignature
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	if p.ID == "" || len(p.ID) > maxIDLen {
		return nil, fmt.Errorf("%w: id of %d bytes, want 1 to %d", ErrBadPayload, len(p.ID), maxIDLen)
	}
	return &p, nil
}

// maxIDLen is the longest Payload.ID that Verify accepts: room for any
// common id form, and a bound on what a receiver keeps per id.
const maxIDLen = 128
