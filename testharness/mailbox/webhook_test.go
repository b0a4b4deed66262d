package mailbox_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/mail"
)

var webhookSecret = []byte("the mailbox tests' webhook secret, 32+ bytes")

// post makes a webhook post of body to url, signed with secret at ts,
// under Host host when it is not empty, and returns the status and body.
func post(t *testing.T, url, host string, secret []byte, ts time.Time, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	sec := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set(mail.TimestampHeader, sec)
	req.Header.Set(mail.SignatureHeader, "v1="+mail.Sign(secret, sec, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, strings.TrimSpace(out.String())
}

// TestWebhookHandlerRefuses posts to a receiver over real HTTP, in order:
// a message is taken once, and a replay of it — the same bytes, or its
// body signed afresh — is refused 409; a payload without an id is refused
// 400, a bad signature or timestamp 401; a signed post under a Host off
// loopback is taken. Only the posts answered 204 are stored.
func TestWebhookHandlerRefuses(t *testing.T) {
	box := mailbox.New(0)
	srv := httptest.NewServer(mailbox.WebhookHandler(box, webhookSecret))
	defer srv.Close()
	now := time.Now()
	const first = `{"id":"00112233445566778899aabbccddeeff","kind":"otp","to":"first@example.com","subject":"s","text":"111111"}`
	tests := []struct {
		name   string
		host   string
		secret []byte
		ts     time.Time
		body   string
		want   int
		says   string // in the answer's body
	}{
		{name: "a message", body: first, want: http.StatusNoContent},
		{name: "the same post again", body: first, want: http.StatusConflict, says: "message id already received"},
		{name: "its body signed afresh", ts: now.Add(time.Second), body: first, want: http.StatusConflict, says: "message id already received"},
		{name: "its id with another body", body: `{"id":"00112233445566778899aabbccddeeff","to":"other@example.com"}`, want: http.StatusConflict, says: "message id already received"},
		{name: "no id", body: `{"kind":"otp","to":"noid@example.com","text":"222222"}`, want: http.StatusBadRequest, says: "payload is not a message with an id"},
		{name: "empty id", body: `{"id":"","to":"noid@example.com"}`, want: http.StatusBadRequest, says: "payload is not a message with an id"},
		{name: "not JSON", body: `to=noid@example.com`, want: http.StatusBadRequest, says: "payload is not a message with an id"},
		{name: "another secret", secret: []byte("another secret, also at least 32 bytes long"), body: `{"id":"a1","to":"forged@example.com"}`, want: http.StatusUnauthorized, says: "signature does not verify"},
		{name: "signed too long ago", ts: now.Add(-6 * time.Minute), body: `{"id":"a2","to":"old@example.com"}`, want: http.StatusUnauthorized, says: "signature does not verify"},
		{name: "signed too far ahead", ts: now.Add(6 * time.Minute), body: `{"id":"a3","to":"ahead@example.com"}`, want: http.StatusUnauthorized, says: "signature does not verify"},
		{name: "a refused id is not taken", body: `{"id":"a1","to":"second@example.com"}`, want: http.StatusNoContent},
		{name: "under a Host off loopback", host: "mail.example:8025", body: `{"id":"a4","to":"third@example.com"}`, want: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, ts := tt.secret, tt.ts
			if secret == nil {
				secret = webhookSecret
			}
			if ts.IsZero() {
				ts = now
			}
			status, said := post(t, srv.URL+"/webhook", tt.host, secret, ts, tt.body)
			if status != tt.want || !strings.Contains(said, tt.says) {
				t.Errorf("%d %q, want %d %q", status, said, tt.want, tt.says)
			}
		})
	}
	var to []string
	for _, m := range box.Messages() {
		to = append(to, m.To)
	}
	if want := []string{"first@example.com", "second@example.com", "third@example.com"}; strings.Join(to, " ") != strings.Join(want, " ") {
		t.Errorf("stored mail to %q, want %q", to, want)
	}
}

// TestWebhookLostAnswer runs mail.Webhook against the receiver with the
// answer to its first try lost after the message was stored: the retry,
// with the same id, is refused 409 and the send counts as delivered, and
// the mail is stored once.
func TestWebhookLostAnswer(t *testing.T) {
	box := mailbox.New(0)
	inner := mailbox.WebhookHandler(box, webhookSecret)
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) == 1 {
			inner.ServeHTTP(httptest.NewRecorder(), r) // stored, and the answer lost
			http.Error(w, "gateway timeout", http.StatusGatewayTimeout)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	hook := &mail.Webhook{URL: srv.URL, Secret: webhookSecret, Backoff: []time.Duration{time.Millisecond}}
	msg := &engine.Message{From: "Latch <login@localhost>", To: "once@example.com", Subject: "Your Latch code: 333333", Text: "333333\n", Kind: engine.MailOTP}
	if err := hook.Send(context.Background(), msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := posts.Load(); n != 2 {
		t.Errorf("%d posts, want 2", n)
	}
	if got := box.Messages(); len(got) != 1 || got[0].To != msg.To {
		t.Errorf("stored %d messages, want 1 to %s", len(got), msg.To)
	}
}
