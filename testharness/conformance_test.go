package testharness

import (
	"testing"

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
	s := startWith(t, Config{
		Mailer:       &mail.SMTP{Addr: smtpAddr},
		MailFrom:     "Latch <login@latch.test>",
		RedirectURLs: []string{redirect},
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
	})
}
