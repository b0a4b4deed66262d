//go:build !js

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/mail"
)

// receiver is the app's mail webhook as the tests run it: a
// mailbox.WebhookHandler on a loopback HTTP server, which can be told to
// answer 500 to the next post (a receiver having a bad moment) or to refuse
// every post with 401 while keeping what it was sent, verified, so that a
// test can try the code of a mail that was never delivered. It keeps the
// last post as it came, for a test to replay.
type receiver struct {
	secret   []byte
	box      *mailbox.Mailbox
	inner    http.Handler
	posts    atomic.Int32
	fail     atomic.Int32 // posts still to answer 500
	refuse   atomic.Bool
	hold     atomic.Pointer[chan struct{}] // when set, a post waits for it to close
	held     chan struct{}                 // gets a value when a post is held
	mu       sync.Mutex
	refused  []*mail.Payload
	last     *http.Request // with its body in lastBody
	lastBody []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.posts.Add(1)
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.last, r.lastBody = req, body
	r.mu.Unlock()
	if h := r.hold.Load(); h != nil {
		r.held <- struct{}{}
		<-*h
	}
	if r.fail.Add(-1) >= 0 {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	if r.refuse.Load() {
		if p, err := mail.Verify(r.secret, req.Header, body, time.Now(), time.Minute); err == nil {
			r.mu.Lock()
			r.refused = append(r.refused, p)
			r.mu.Unlock()
		}
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	r.inner.ServeHTTP(w, req)
}

// TestWebhookMail runs the Worker with LATCH_MAIL=webhook against a real
// receiver on loopback (Go's net/http inside the Worker, over workerd's
// fetch): an OTP login and a magic-link login finished from the mail
// received, a post answered 500 and then delivered on the retry, and a
// receiver refusing the post, which fails the request and leaves the code
// unusable.
func TestWebhookMail(t *testing.T) {
	t.Parallel()
	RequireWrangler(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	hexSecret := []byte(hex.EncodeToString(secret))
	box := mailbox.New(0)
	rcv := &receiver{secret: hexSecret, box: box, inner: mailbox.WebhookHandler(box, hexSecret), held: make(chan struct{}, 1)}
	rcv.fail.Store(-1 << 30)
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	w := Start(t, Options{MoreVars: map[string]string{
		"LATCH_MAIL":                "webhook",
		"LATCH_MAIL_WEBHOOK_URL":    srv.URL + "/webhook",
		"LATCH_MAIL_WEBHOOK_SECRET": string(hexSecret),
		"LATCH_MAIL_FROM":           "Acme <login@example.com>",
		"LATCH_PROJECT_NAME":        "Acme",
		"LATCH_REDIRECT_URLS":       testRedirectURL,
	}})
	a := newAPI(t, w.Target)
	next := func(t *testing.T, to string) *mailbox.Message {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		m, err := box.Wait(ctx, to, 0)
		if err != nil {
			t.Fatalf("no mail to %s: %v", to, err)
		}
		if m.Via != "webhook" || m.From != "Acme <login@example.com>" || !bytes.Contains([]byte(m.Subject), []byte("Acme")) {
			t.Errorf("mail via %q from %q subject %q, want the webhook, Acme <login@example.com>, naming Acme", m.Via, m.From, m.Subject)
		}
		return m
	}

	t.Run("otp login", func(t *testing.T) {
		const to = "otp@example.com"
		sent := a.must(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": to})
		code := sixDigits.FindString(next(t, to).Text)
		auth := a.must(http.MethodPost, "/v1/otps/authenticate", map[string]any{
			"method_id": sent["email_id"], "code": code, "session_duration_minutes": 30})
		if auth["user_id"] != sent["user_id"] || auth["session_token"] == "" {
			t.Errorf("otp authenticate: %v", auth)
		}
	})

	t.Run("magic link login", func(t *testing.T) {
		const to = "link@example.com"
		sent := a.must(http.MethodPost, "/v1/magic_links/email/login_or_create", map[string]any{"email": to})
		token := linkToken(t, next(t, to).Text)
		auth := a.must(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 30})
		if auth["user_id"] != sent["user_id"] || auth["session_token"] == "" {
			t.Errorf("magic link authenticate: %v", auth)
		}
	})

	t.Run("retried after a 500", func(t *testing.T) {
		const to = "retry@example.com"
		before := rcv.posts.Load()
		rcv.fail.Store(1)
		defer rcv.fail.Store(-1 << 30)
		sent := a.must(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": to})
		m := next(t, to)
		if n := rcv.posts.Load() - before; n != 2 {
			t.Errorf("%d posts, want 2: one answered 500, one delivered", n)
		}
		a.must(http.MethodPost, "/v1/otps/authenticate", map[string]any{
			"method_id": sent["email_id"], "code": sixDigits.FindString(m.Text), "session_duration_minutes": 30})
	})

	t.Run("the isolate serves while a post waits", func(t *testing.T) {
		const to = "slow@example.com"
		release := make(chan struct{})
		rcv.hold.Store(&release)
		done := make(chan map[string]any, 1)
		go func() {
			_, out, err := a.do(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": to}, true, w.ProjectID, w.Secret)
			if err != nil {
				t.Error(err)
			}
			done <- out
		}()
		select {
		case <-rcv.held:
		case <-time.After(20 * time.Second):
			t.Fatal("the post never arrived")
		}
		rcv.hold.Store(nil)
		// The Go instance is waiting on the post's fetch; the isolate must
		// still answer. A blocked isolate would answer only after the
		// release below, which waits on this call: the client's timeout
		// would end it with an error.
		status, out := a.call(http.MethodGet, "/v1/sessions/jwks/"+w.ProjectID, nil, false)
		if status != http.StatusOK {
			t.Errorf("jwks while a post waits: %d %v", status, out)
		}
		close(release)
		if out := <-done; out["email_id"] == nil {
			t.Errorf("the held login_or_create: %v", out)
		}
		next(t, to)
	})

	t.Run("a receiver that never answers", func(t *testing.T) {
		// Each post gives up after ten seconds, as on the Go hosts, and is
		// tried three times; then the call fails as for a refused post,
		// instead of waiting as long as the receiver does.
		const to = "stalled@example.com"
		never := make(chan struct{})
		rcv.hold.Store(&never)
		defer close(never)
		defer rcv.hold.Store(nil)
		drained := make(chan struct{})
		defer close(drained)
		go func() {
			for {
				select {
				case <-rcv.held:
				case <-drained:
					return
				}
			}
		}()
		// Three tries of ten seconds outlast the other calls' client.
		patient := apitest.Client{URL: w.URL, ProjectID: w.ProjectID, Secret: w.Secret,
			HTTP: &http.Client{Timeout: 2 * time.Minute, Transport: Transport()}}
		start := time.Now()
		status, out, err := patient.Post("/v1/otps/email/login_or_create", map[string]any{"email": to})
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusBadGateway || out["error_type"] != "email_delivery_failed" {
			t.Errorf("login_or_create while the receiver never answers: %d %v after %v, want 502 email_delivery_failed", status, out, time.Since(start))
		}
	})

	t.Run("a replayed post is refused", func(t *testing.T) {
		const to = "replayed@example.com"
		a.must(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": to})
		next(t, to)
		rcv.mu.Lock()
		last, body := rcv.last, rcv.lastBody
		rcv.mu.Unlock()
		var p struct{ ID string }
		if err := json.Unmarshal(body, &p); err != nil || !hexID.MatchString(p.ID) {
			t.Fatalf("the Worker's post %s has no id of 32 hex digits (%v)", body, err)
		}
		again, err := http.NewRequest(http.MethodPost, srv.URL+"/webhook", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		again.Header = last.Header.Clone()
		resp, err := http.DefaultClient.Do(again)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("the Worker's post replayed: %d, want 409", resp.StatusCode)
		}
		n := 0
		for _, m := range box.Messages() {
			if m.To == to {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d messages to %s, want 1", n, to)
		}
	})

	t.Run("refused by the receiver", func(t *testing.T) {
		const to = "refused@example.com"
		user := a.must(http.MethodPost, "/v1/users", map[string]any{"email": to})
		before := rcv.posts.Load()
		rcv.refuse.Store(true)
		defer rcv.refuse.Store(false)
		status, out := a.call(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": to}, true)
		if status != http.StatusBadGateway || out["error_type"] != "email_delivery_failed" {
			t.Fatalf("login_or_create with the receiver refusing: %d %v, want 502 email_delivery_failed", status, out)
		}
		if n := rcv.posts.Load() - before; n != 1 {
			t.Errorf("%d posts, want 1: a 401 is not retried", n)
		}
		rcv.mu.Lock()
		refused := rcv.refused
		rcv.mu.Unlock()
		if len(refused) != 1 || refused[0].To != to {
			t.Fatalf("the receiver verified %d refused posts, want 1 to %s", len(refused), to)
		}
		code := sixDigits.FindString(refused[0].Text)
		status, out = a.call(http.MethodPost, "/v1/otps/authenticate", map[string]any{
			"method_id": user["email_id"], "code": code, "session_duration_minutes": 30}, true)
		if status != http.StatusNotFound || out["error_type"] != "otp_code_not_found" {
			t.Errorf("the undelivered code: %d %v, want 404 otp_code_not_found", status, out)
		}
	})
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

var mailedLink = regexp.MustCompile(`https?://\S+`)

// linkToken returns the token of the magic link in a mail's text, which
// must lead to the redirect URL.
func linkToken(t *testing.T, text string) string {
	t.Helper()
	for _, raw := range mailedLink.FindAllString(text, -1) {
		u, err := url.Parse(raw)
		if err != nil || u.Query().Get("stytch_token_type") != "magic_links" {
			continue
		}
		if base := u.Scheme + "://" + u.Host + u.Path; base != testRedirectURL {
			t.Fatalf("link leads to %s, want %s", base, testRedirectURL)
		}
		return u.Query().Get("token")
	}
	t.Fatalf("no magic link in %q", text)
	return ""
}
