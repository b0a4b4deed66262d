package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// SMTP delivers mail to an SMTP server (a relay or the app's provider).
// It upgrades to TLS with STARTTLS whenever the server offers it, and
// authenticates (PLAIN) when a username is set — which Go's smtp package
// allows only over TLS or to localhost.
type SMTP struct {
	// Addr is the server, host:port.
	Addr string
	// Username and Password authenticate; no auth when Username is empty.
	Username, Password string
	// RequireTLS fails delivery to a server that does not offer STARTTLS.
	RequireTLS bool
	// TLSConfig is used for STARTTLS; one naming Addr's host when nil.
	TLSConfig *tls.Config
	// LocalName is sent in HELO/EHLO; "localhost" when empty.
	LocalName string
	// Timeout bounds one delivery; 30 seconds when zero.
	Timeout time.Duration
	// Now dates the message; time.Now when nil.
	Now func() time.Time
}

var _ engine.Mailer = (*SMTP)(nil)

// Send delivers m over one SMTP session.
func (s *SMTP) Send(ctx context.Context, m *engine.Message) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	raw, err := Compose(m, now())
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("mail: sender: %w", err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: recipient: %w", err)
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mail: smtp: %w", err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: smtp: %w", err)
	}
	defer c.Close()
	if err := s.session(c, host, from.Address, to.Address, raw); err != nil {
		return fmt.Errorf("mail: smtp %s: %w", s.Addr, err)
	}
	return nil
}

func (s *SMTP) session(c *smtp.Client, host, from, to string, raw []byte) error {
	name := s.LocalName
	if name == "" {
		name = "localhost"
	}
	if err := c.Hello(name); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	} else if s.RequireTLS {
		return fmt.Errorf("server offers no STARTTLS")
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
