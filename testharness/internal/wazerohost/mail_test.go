package wazerohost

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/mail"
)

const testRedirect = "http://localhost:3000/authenticate"

// startWith starts a Server with cfg and closes it when t ends.
func startWith(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("testharness: close: %v", err)
		}
	})
	return s
}

// smtpMailbox runs a mailbox's SMTP server on loopback for the test.
func smtpMailbox(t *testing.T, cfg mailbox.SMTPConfig) (*mailbox.Mailbox, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := mailbox.New(0)
	srv := mailbox.ServeSMTP(l, box, cfg)
	t.Cleanup(func() { srv.Close() })
	return box, srv.Addr
}

// mailServer starts a Server that mails through m.
func mailServer(t *testing.T, m engine.Mailer) *Server {
	t.Helper()
	return startWith(t, Config{Mailer: m, MailFrom: "Latch <login@latch.test>", RedirectURLs: []string{testRedirect}})
}

// waitMail returns the next message to to in box after the one numbered
// after.
func waitMail(t *testing.T, box *mailbox.Mailbox, to string, after int) *mailbox.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := box.Wait(ctx, to, after)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	codeRE = regexp.MustCompile(`\b\d{6}\b`)
	linkRE = regexp.MustCompile(`https?://\S+`)
)

// otpLogin logs email in with a code mailed through s's transport into
// box, and returns the mail.
func otpLogin(t *testing.T, s *Server, box *mailbox.Mailbox, email string) *mailbox.Message {
	t.Helper()
	after := box.Last()
	status, sent := call(t, s, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": email})
	mustOK(t, status, sent)
	m := waitMail(t, box, email, after)
	code := codeRE.FindString(m.Text)
	if m.Kind != engine.MailOTP || code == "" || !strings.Contains(m.Subject, code) {
		t.Fatalf("otp mail %+v has no code", m)
	}
	status, auth := call(t, s, "POST", "/v1/otps/authenticate", map[string]any{
		"method_id": sent["email_id"], "code": code, "session_duration_minutes": 5,
	})
	mustOK(t, status, auth)
	if auth["session_token"] == "" || auth["user_id"] != sent["user_id"] {
		t.Fatalf("otp authenticate: %v", auth)
	}
	return m
}

// linkLogin logs email in with a magic link mailed into box.
func linkLogin(t *testing.T, s *Server, box *mailbox.Mailbox, email string) *mailbox.Message {
	t.Helper()
	after := box.Last()
	status, sent := call(t, s, "POST", "/v1/magic_links/email/login_or_create", map[string]any{"email": email})
	mustOK(t, status, sent)
	m := waitMail(t, box, email, after)
	link, err := url.Parse(linkRE.FindString(m.Text))
	if err != nil || !strings.HasPrefix(link.String(), testRedirect+"?") {
		t.Fatalf("magic link mail %+v: link %v %v", m, link, err)
	}
	status, auth := call(t, s, "POST", "/v1/magic_links/authenticate", map[string]any{
		"token": link.Query().Get("token"), "session_duration_minutes": 5,
	})
	mustOK(t, status, auth)
	if auth["user_id"] != sent["user_id"] {
		t.Fatalf("magic link authenticate: %v", auth)
	}
	return m
}

// mustFail checks an answer is the Stytch error wantType with status want.
func mustFail(t *testing.T, status int, out map[string]any, want int, wantType string) {
	t.Helper()
	if status != want || out["error_type"] != wantType {
		t.Fatalf("got %d %v, want %d %s", status, out, want, wantType)
	}
}

var webhookSecret = []byte("a webhook secret of at least 32 bytes, for tests")

// TestMailWebhook sends email logins through the signed webhook to a
// mailbox's receiver on a real HTTP server: a 5xx is retried, a receiver
// that refuses the signature fails the send with 502.
func TestMailWebhook(t *testing.T) {
	t.Run("retries a 5xx then delivers", func(t *testing.T) {
		box := mailbox.New(0)
		receiver := mailbox.WebhookHandler(box, webhookSecret)
		var posts atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Every message's first post fails; its retry gets through.
			if posts.Add(1)%2 == 1 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			receiver.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		s := mailServer(t, &mail.Webhook{URL: srv.URL, Secret: webhookSecret, Backoff: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}})
		if m := otpLogin(t, s, box, "hook-otp@example.com"); m.Via != "webhook" || m.From != "Latch <login@latch.test>" {
			t.Errorf("otp mail came %s from %s, want webhook from Latch <login@latch.test>", m.Via, m.From)
		}
		// login_or_create creates this user, so its link is the signup one.
		if m := linkLogin(t, s, box, "hook-link@example.com"); m.Via != "webhook" || m.Kind != engine.MailMagicLinkSignup {
			t.Errorf("link mail came %s as %s, want webhook, %s", m.Via, m.Kind, engine.MailMagicLinkSignup)
		}
		if n, got := posts.Load(), len(box.Messages()); n != 4 || got != 2 {
			t.Errorf("%d posts for %d messages, want 4 for 2", n, got)
		}
	})
	t.Run("a receiver with another secret fails the send", func(t *testing.T) {
		box := mailbox.New(0)
		receiver := mailbox.WebhookHandler(box, []byte("another secret, also at least 32 bytes long"))
		var posts atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			posts.Add(1)
			receiver.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		s := mailServer(t, &mail.Webhook{URL: srv.URL, Secret: webhookSecret, Backoff: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}})
		status, out := call(t, s, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "hook-401@example.com"})
		mustFail(t, status, out, http.StatusBadGateway, "email_delivery_failed")
		if n, got := posts.Load(), len(box.Messages()); n != 1 || got != 0 {
			t.Errorf("%d posts (a 401 is not retried), %d messages stored; want 1 and 0", n, got)
		}
	})
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "latch test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// TestMailSMTPTLSAuth delivers through an SMTP server that offers
// STARTTLS and demands AUTH PLAIN (which it allows only after TLS): the
// right password delivers; a wrong one, or a certificate the client does
// not trust, fails the send with 502 and delivers nothing.
func TestMailSMTPTLSAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	box, addr := smtpMailbox(t, mailbox.SMTPConfig{
		TLS:      &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Username: "latch", Password: "right horse battery staple",
	})
	trusting := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	tests := []struct {
		name      string
		password  string
		tls       *tls.Config
		delivered bool
	}{
		{name: "right password", password: "right horse battery staple", tls: trusting, delivered: true},
		{name: "wrong password", password: "wrong", tls: trusting},
		{name: "untrusted certificate", password: "right horse battery staple", tls: &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mailServer(t, &mail.SMTP{Addr: addr, Username: "latch", Password: tt.password, RequireTLS: true, TLSConfig: tt.tls})
			email := "tls-" + string(rune('a'+i)) + "@example.com"
			if tt.delivered {
				if m := otpLogin(t, s, box, email); m.Via != "smtp" {
					t.Errorf("mail came by %s, want smtp", m.Via)
				}
				return
			}
			before := box.Last()
			status, out := call(t, s, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": email})
			mustFail(t, status, out, http.StatusBadGateway, "email_delivery_failed")
			if box.Last() != before {
				t.Errorf("a message was delivered: %+v", box.Messages()[len(box.Messages())-1])
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestMailFailureLeavesNothing points SMTP at a closed port: every send
// answers 502 email_delivery_failed, and what the mail would have carried
// — a code, a magic link, a reset link — is not left in the store, so
// nothing can be authenticated with it.
func TestMailFailureLeavesNothing(t *testing.T) {
	s := mailServer(t, &mail.SMTP{Addr: closedPort(t), Timeout: 5 * time.Second})
	tests := []struct {
		name, path string
		table      string // where the unsent secret would be
	}{
		{name: "one-time code", path: "/v1/otps/email/login_or_create", table: "email_otps"},
		{name: "magic link", path: "/v1/magic_links/email/login_or_create", table: "magic_links"},
		{name: "magic link to a known user", path: "/v1/magic_links/email/send", table: "magic_links"},
		{name: "password reset", path: "/v1/passwords/email/reset/start", table: "password_resets"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := "unsent-" + string(rune('a'+i)) + "@example.com"
			status, user := call(t, s, "POST", "/v1/users", map[string]any{"email": email})
			mustOK(t, status, user)
			status, out := call(t, s, "POST", tt.path, map[string]any{"email": email})
			mustFail(t, status, out, http.StatusBadGateway, "email_delivery_failed")
			var n int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM `+tt.table+` WHERE user_id = ?`, user["user_id"]).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d rows left in %s for the unsent mail", n, tt.table)
			}
		})
	}
	t.Run("the unsent code does not authenticate", func(t *testing.T) {
		status, user := call(t, s, "POST", "/v1/users", map[string]any{"email": "unsent-code@example.com"})
		mustOK(t, status, user)
		status, out := call(t, s, "POST", "/v1/otps/email/login_or_create", map[string]any{"email": "unsent-code@example.com"})
		mustFail(t, status, out, http.StatusBadGateway, "email_delivery_failed")
		for _, code := range []string{"000000", "123456"} {
			status, out = call(t, s, "POST", "/v1/otps/authenticate", map[string]any{"method_id": user["email_id"], "code": code})
			mustFail(t, status, out, http.StatusNotFound, "otp_code_not_found")
		}
	})
}

// TestNewMailConfig checks that New refuses mail settings the engine
// could not use, in the host or when the guest's engine is configured,
// and accepts a complete set.
func TestNewMailConfig(t *testing.T) {
	smtp := &mail.SMTP{Addr: closedPort(t)}
	full := Config{Mailer: smtp, MailFrom: "Latch <login@latch.test>", ProjectName: "Acme", RedirectURLs: []string{testRedirect},
		MailTemplates: map[string]engine.MailTemplate{engine.MailOTP: {Subject: "Your {{.ProjectName}} code is {{.Code}}"}}}
	tests := []struct {
		name   string
		modify func(*Config)
		want   error
	}{
		{name: "complete", modify: func(*Config) {}},
		{name: "no mail at all", modify: func(c *Config) { *c = Config{} }},
		{name: "mailer without MailFrom", modify: func(c *Config) { c.MailFrom = "" }, want: ErrConfig},
		{name: "MailFrom not an address", modify: func(c *Config) { c.MailFrom = "Latch login" }, want: ErrConfig},
		{name: "relative redirect URL", modify: func(c *Config) { c.RedirectURLs = []string{"/authenticate"} }, want: ErrConfig},
		{name: "redirect URL with a fragment", modify: func(c *Config) { c.RedirectURLs = []string{testRedirect + "#x"} }, want: ErrConfig},
		{name: "template of an unknown kind", modify: func(c *Config) {
			c.MailTemplates = map[string]engine.MailTemplate{"welcome": {Subject: "hi"}}
		}, want: ErrConfig},
		{name: "template that does not parse", modify: func(c *Config) {
			c.MailTemplates = map[string]engine.MailTemplate{engine.MailOTP: {Text: "{{.Code"}}
		}, want: ErrConfig},
		{name: "template naming a missing field", modify: func(c *Config) {
			c.MailTemplates = map[string]engine.MailTemplate{engine.MailOTP: {HTML: "{{.Password}}"}}
		}, want: ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.modify(&cfg)
			cfg.Instances = 1
			s, err := newServer(cfg)
			if s != nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("New: err = %v, want %v", err, tt.want)
			}
		})
	}
}
