package testharness

import (
	"net"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/mail"
)

// TestConformance runs the shared API conformance suite against the
// engine under wazero, over real HTTP, with the harness's movable clock.
// Mail goes from the guest to the host and out over real SMTP to a
// mailbox on loopback, where the email cases read it.
func TestConformance(t *testing.T) {
	box, smtpAddr := smtpMailbox(t, mailbox.SMTPConfig{})
	const redirect = "http://localhost:3000/authenticate"
	var s *Server
	providers := conformance.StartProviders(t, func() time.Time { return s.Now() })
	s = startWith(t, Config{
		OAuthProviders: []byte(providers.Document()),
		Mailer:         &mail.SMTP{Addr: smtpAddr},
		MailFrom:       "Latch <login@latch.test>",
		RedirectURLs:   []string{redirect},
		// The origin of the WebAuthn cases' browser, and only it.
		WebAuthnOrigins: []string{conformance.WebAuthnOrigin},
	})
	conformance.Run(t, conformance.Target{
		URL:       s.URL,
		ProjectID: s.ProjectID,
		Secret:    s.Secret,
		Advance:   s.Advance,
		RotateKeys: func(t *testing.T) {
			if _, err := s.RotateKey(); err != nil {
				t.Fatal(err)
			}
		},
		ReadMail:    conformance.MailboxReader(box),
		RedirectURL: redirect,
		OAuth:       providers,
		WebAuthn:    true,
		PublicToken: s.PublicToken,
	})
}

// startWith starts a Server with cfg and closes it when t ends.
func startWith(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
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
