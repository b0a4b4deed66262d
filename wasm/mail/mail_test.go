package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
// the first try with a 5xx, and refuses other failures at once.
func TestWebhook(t *testing.T) {
	secret := bytes.Repeat([]byte("k"), 32)
	var posts, fail5xx atomic.Int32
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		body, _ := io.ReadAll(r.Body)
		p, err := mail.Verify(secret, r.Header, body, time.Now(), time.Minute)
		if err != nil || p.To != msg.To || p.Subject != msg.Subject || p.Kind != msg.Kind {
			http.Error(w, "bad", http.StatusUnauthorized)
			return
		}
		if fail5xx.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	hook := &mail.Webhook{URL: srv.URL, Secret: secret, Backoff: []time.Duration{time.Millisecond, time.Millisecond}}
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		fails     int32
		status    int32
		secret    []byte
		wantPosts int32
		wantErr   bool
	}{
		{name: "delivered", status: 204, wantPosts: 1},
		{name: "a 5xx is retried", fails: 1, status: 204, wantPosts: 2},
		{name: "retries end", fails: 5, status: 204, wantPosts: 3, wantErr: true},
		{name: "a 4xx is not retried", status: 400, wantPosts: 1, wantErr: true},
		{name: "another secret is refused", status: 204, secret: bytes.Repeat([]byte("z"), 32), wantPosts: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			posts.Store(0)
			fail5xx.Store(tc.fails)
			status.Store(tc.status)
			h := *hook
			if tc.secret != nil {
				h.Secret = tc.secret
			}
			err := h.Send(ctx, msg)
			if (err != nil) != tc.wantErr || posts.Load() != tc.wantPosts {
				t.Fatalf("err %v after %d posts; want error %v after %d", err, posts.Load(), tc.wantErr, tc.wantPosts)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	secret := bytes.Repeat([]byte("k"), 32)
	body := []byte(`{"to":"a@example.com"}`)
	now := time.Unix(1_800_000_000, 0)
	header := func(ts int64, sig string) http.Header {
		h := http.Header{}
		h.Set(mail.TimestampHeader, itoa(ts))
		h.Set(mail.SignatureHeader, sig)
		return h
	}
	good := "v1=" + mail.Sign(secret, itoa(now.Unix()), body)
	if _, err := mail.Verify(secret, header(now.Unix(), good), body, now, time.Minute); err != nil {
		t.Fatalf("good post refused: %v", err)
	}
	for name, h := range map[string]http.Header{
		"tampered":     header(now.Unix(), good[:len(good)-1]+"0"),
		"old":          header(now.Unix()-120, "v1="+mail.Sign(secret, itoa(now.Unix()-120), body)),
		"no signature": header(now.Unix(), ""),
		"other scheme": header(now.Unix(), "v2="+mail.Sign(secret, itoa(now.Unix()), body)),
	} {
		if _, err := mail.Verify(secret, h, body, now, time.Minute); !errors.Is(err, mail.ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
}

func itoa(n int64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
