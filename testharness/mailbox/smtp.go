package mailbox

import (
	"crypto/tls"
	"errors"
	"io"
	"net"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig describes the SMTP server ServeSMTP runs.
type SMTPConfig struct {
	// TLS, when set, is offered as STARTTLS.
	TLS *tls.Config
	// Username and Password, when set, are required (AUTH PLAIN) before
	// a message is accepted.
	Username, Password string
}

// SMTPServer is a running SMTP server that delivers into a Mailbox.
type SMTPServer struct {
	// Addr is where it listens, host:port.
	Addr string
	srv  *smtp.Server
}

// ServeSMTP starts an SMTP server on l that puts every message it accepts
// into b. Close it to stop.
func ServeSMTP(l net.Listener, b *Mailbox, cfg SMTPConfig) *SMTPServer {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{box: b, cfg: cfg}, nil
	}))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.TLSConfig = cfg.TLS
	// Auth over plain text is allowed only on loopback, where this runs.
	srv.AllowInsecureAuth = cfg.TLS == nil
	go func() { _ = srv.Serve(l) }()
	return &SMTPServer{Addr: l.Addr().String(), srv: srv}
}

// Close stops the server.
func (s *SMTPServer) Close() error { return s.srv.Close() }

type session struct {
	box    *Mailbox
	cfg    SMTPConfig
	authed bool
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (s *session) AuthMechanisms() []string {
	if s.cfg.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.cfg.Username || password != s.cfg.Password {
			return errors.New("invalid username or password")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) ready() error {
	if s.cfg.Username != "" && !s.authed {
		return errAuthRequired
	}
	return nil
}

func (s *session) Mail(string, *smtp.MailOptions) error { return s.ready() }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return s.ready() }

func (s *session) Data(r io.Reader) error {
	if err := s.ready(); err != nil {
		return err
	}
	m, err := Parse(r, "smtp")
	if err != nil {
		return err
	}
	s.box.Add(m)
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
