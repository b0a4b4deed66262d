package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/mail"
)

var msg = &engine.Message{
	From: "Acme Ltd <login@acme.example>", To: "ada@example.com",
	Subject: "Your code: 123456 — ünïcödé\r\nBcc: evil@example.com",
	Text:    "Line one\nA long line " + strings.Repeat("x=", 60) + "\nThe end.\n",
	HTML:    `<p>Hello <a href="https://acme.example/a?b=1&amp;c=2">link</a></p>`,
	Kind:    engine.MailOTP,
}

// TestComposeReadsBack composes a message and reads it as a mail client
// would: every part arrives whole, and a header cannot be injected.
func TestComposeReadsBack(t *testing.T) {
	raw, err := mail.Compose(msg, time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("\r\nBcc:")) {
		t.Fatalf("a header was injected through the subject:\n%s", raw)
	}
	got, err := mailbox.Parse(bytes.NewReader(raw), "test")
	if err != nil {
		t.Fatal(err)
	}
	if got.From != "login@acme.example" || got.To != msg.To || got.Kind != msg.Kind ||
		got.Subject != "Your code: 123456 — ünïcödé Bcc: evil@example.com" ||
		got.Text != msg.Text || got.HTML != msg.HTML {
		t.Fatalf("read back %+v", got)
	}
	for _, bad := range []*engine.Message{{From: "nobody", To: msg.To}, {From: msg.From, To: "a@b@c"}} {
		if _, err := mail.Compose(bad, time.Now()); err == nil {
			t.Errorf("composed %+v", bad)
		}
	}
}

// TestWebhook posts to a real receiver that checks the signature, fails
// the first try with a 5xx, and refuses other failures at once. Every try
// of one message carries the same id, and a 409 to a retry — the receiver
// took an earlier try whose answer was lost — is delivery.
func TestWebhook(t *testing.T) {
	secret := bytes.Repeat([]byte("k"), 32)
	var fail5xx atomic.Int32
	var status atomic.Int32
	var mu sync.Mutex
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, err := mail.Verify(secret, r.Header, body, time.Now(), time.Minute)
		if err != nil || p.To != msg.To || p.Subject != msg.Subject || p.Kind != msg.Kind {
			http.Error(w, "bad", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		ids = append(ids, p.ID)
		mu.Unlock()
		if fail5xx.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	hook := &mail.Webhook{URL: srv.URL, Secret: secret, Backoff: []time.Duration{time.Millisecond, time.Millisecond}}
	ctx := context.Background()
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	var lastID string
	for _, tc := range []struct {
		name      string
		fails     int32
		status    int32
		secret    []byte
		wantPosts int
		wantErr   bool
	}{
		{name: "delivered", status: 204, wantPosts: 1},
		{name: "a 5xx is retried", fails: 1, status: 204, wantPosts: 2},
		{name: "retries end", fails: 5, status: 204, wantPosts: 3, wantErr: true},
		{name: "a 4xx is not retried", status: 400, wantPosts: 1, wantErr: true},
		{name: "a 409 to a retry is delivery", fails: 1, status: 409, wantPosts: 2},
		{name: "a 409 to the first try fails", status: 409, wantPosts: 1, wantErr: true},
		{name: "another secret is refused", status: 204, secret: bytes.Repeat([]byte("z"), 32), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			ids = nil
			mu.Unlock()
			fail5xx.Store(tc.fails)
			status.Store(tc.status)
			h := *hook
			if tc.secret != nil {
				h.Secret = tc.secret
			}
			err := h.Send(ctx, msg)
			mu.Lock()
			got := ids
			mu.Unlock()
			if (err != nil) != tc.wantErr || len(got) != tc.wantPosts {
				t.Fatalf("err %v after %d verified posts; want error %v after %d", err, len(got), tc.wantErr, tc.wantPosts)
			}
			for _, id := range got {
				if !hexID.MatchString(id) || id != got[0] {
					t.Errorf("ids %q: want one of 32 hex digits, the same on every try", got)
				}
			}
			if len(got) > 0 && got[0] == lastID {
				t.Errorf("id %s again: each message wants its own", lastID)
			}
			if len(got) > 0 {
				lastID = got[0]
			}
		})
	}
}

// TestWebhookRand draws the id from the Webhook's Rand, and fails the
// send when it has none to give.
func TestWebhookRand(t *testing.T) {
	secret := bytes.Repeat([]byte("k"), 32)
	var got *mail.Payload
	hook := &mail.Webhook{URL: "http://127.0.0.1/", Secret: secret, Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)),
		Post: func(_ context.Context, _ string, h http.Header, body []byte) (int, error) {
			var err error
			got, err = mail.Verify(secret, h, body, time.Now(), time.Minute)
			return 204, err
		}}
	if err := hook.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("ab", 16); got.ID != want {
		t.Errorf("id %q, want %q", got.ID, want)
	}
	if err := hook.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "mail: webhook id: ") {
		t.Errorf("send with Rand spent: err = %v, want mail: webhook id: …", err)
	}
}

// TestVerifyRefuses checks each refusal of Verify: ErrBadSignature for a
// post not signed with the secret within the window, ErrBadPayload for a
// signed body that is not a payload with an id.
func TestVerifyRefuses(t *testing.T) {
	secret := bytes.Repeat([]byte("k"), 32)
	now := time.Unix(1_800_000_000, 0)
	at := now.Unix()
	sign := func(ts int64, body string) string { return "v1=" + mail.Sign(secret, itoa(ts), []byte(body)) }
	const body = `{"id":"0123456789abcdef0123456789abcdef","to":"a@example.com"}`
	h := http.Header{}
	h.Set(mail.TimestampHeader, itoa(at))
	h.Set(mail.SignatureHeader, sign(at, body))
	if p, err := mail.Verify(secret, h, []byte(body), now, time.Minute); err != nil || p.ID != "0123456789abcdef0123456789abcdef" || p.To != "a@example.com" {
		t.Fatalf("good post: %+v, %v", p, err)
	}
	long := `{"id":"` + strings.Repeat("a", 129) + `"}`
	for _, tc := range []struct {
		name string
		ts   int64
		sig  string
		body string
		want error
	}{
		{name: "tampered", ts: at, sig: sign(at, body)[:len(sign(at, body))-1] + "0", body: body, want: mail.ErrBadSignature},
		{name: "old", ts: at - 120, sig: sign(at-120, body), body: body, want: mail.ErrBadSignature},
		{name: "from the future", ts: at + 120, sig: sign(at+120, body), body: body, want: mail.ErrBadSignature},
		{name: "no signature", ts: at, body: body, want: mail.ErrBadSignature},
		{name: "other scheme", ts: at, sig: "v2=" + mail.Sign(secret, itoa(at), []byte(body)), body: body, want: mail.ErrBadSignature},
		{name: "no id", ts: at, sig: sign(at, `{"to":"a@example.com"}`), body: `{"to":"a@example.com"}`, want: mail.ErrBadPayload},
		{name: "empty id", ts: at, sig: sign(at, `{"id":"","to":"a@example.com"}`), body: `{"id":"","to":"a@example.com"}`, want: mail.ErrBadPayload},
		{name: "id too long", ts: at, sig: sign(at, long), body: long, want: mail.ErrBadPayload},
		{name: "id not a string", ts: at, sig: sign(at, `{"id":7}`), body: `{"id":7}`, want: mail.ErrBadPayload},
		{name: "not JSON", ts: at, sig: sign(at, `id=1`), body: `id=1`, want: mail.ErrBadPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(mail.TimestampHeader, itoa(tc.ts))
			h.Set(mail.SignatureHeader, tc.sig)
			p, err := mail.Verify(secret, h, []byte(tc.body), now, time.Minute)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %+v, %v; want %v", p, err, tc.want)
			}
		})
	}
}

func itoa(n int64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
