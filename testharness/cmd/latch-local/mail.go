package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/mail"
)

// The secrets of a mail transport come from the environment, never from
// a flag, whose value any user on the machine can read in ps.
const (
	smtpPasswordEnv  = "LATCH_SMTP_PASSWORD"
	webhookSecretEnv = "LATCH_MAIL_WEBHOOK_SECRET"
)

const defaultMailbox = "127.0.0.1:8025"

// mailFlags are latch-local's mail settings: a transport (-smtp or
// -webhook-url; the dev mailbox when neither) and what the engine puts in
// its messages.
type mailFlags struct {
	smtp, smtpUser string
	smtpRequireTLS bool
	webhookURL     string
	from, project  string
	redirects      stringList
	templates      string
	mailbox        string
	mailboxPublic  bool
	mailboxSet     bool
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (m *mailFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&m.smtp, "smtp", "", "deliver mail to this SMTP server, host:port (STARTTLS when offered)")
	fl.StringVar(&m.smtpUser, "smtp-user", "", "SMTP username (AUTH PLAIN); the password comes from $"+smtpPasswordEnv)
	fl.BoolVar(&m.smtpRequireTLS, "smtp-require-tls", false, "fail delivery to an SMTP server that does not offer STARTTLS")
	fl.StringVar(&m.webhookURL, "webhook-url", "", "deliver mail by signed POST to this URL (https unless loopback); the secret comes from $"+webhookSecretEnv)
	fl.StringVar(&m.from, "mail-from", "Latch <login@localhost>", "sender of the engine's mail")
	fl.StringVar(&m.project, "project-name", "", `project name in mail ("Latch" when empty)`)
	fl.Var(&m.redirects, "redirect-url", "URL mailed links may lead to; repeatable, the first is the default (default http://localhost:3000/authenticate)")
	fl.StringVar(&m.templates, "mail-templates", "", "directory of <kind>.subject, <kind>.txt and <kind>.html files overriding the built-in messages")
	fl.StringVar(&m.mailbox, "mailbox", defaultMailbox, `with no transport flag: address of the dev mailbox page, loopback unless -mailbox-public ("0" or "off": no dev mailbox, no mail)`)
	fl.BoolVar(&m.mailboxPublic, "mailbox-public", false, "allow a -mailbox address off loopback, where anyone who reaches it reads every mailed code and link")
}

// check validates the flags and the environment they need, after Parse.
func (m *mailFlags) check(fl *flag.FlagSet) error {
	fl.Visit(func(f *flag.Flag) { m.mailboxSet = m.mailboxSet || f.Name == "mailbox" })
	devMailbox := m.smtp == "" && m.webhookURL == "" && !m.mailboxOff()
	switch {
	case m.smtp != "" && m.webhookURL != "":
		return errors.New("-smtp and -webhook-url are two transports; pick one")
	case m.smtp == "" && (m.smtpUser != "" || m.smtpRequireTLS):
		return errors.New("-smtp-user and -smtp-require-tls need -smtp")
	case (m.smtp != "" || m.webhookURL != "") && m.mailboxSet:
		return errors.New("-mailbox is the dev mailbox, used only without -smtp or -webhook-url")
	case m.mailboxPublic && !devMailbox:
		return errors.New("-mailbox-public is for the dev mailbox, used only without -smtp, -webhook-url or -mailbox off")
	}
	if devMailbox && !m.mailboxPublic {
		if host, _, err := net.SplitHostPort(m.mailbox); err != nil || !mailbox.Loopback(host) {
			return fmt.Errorf("-mailbox %q is not a loopback address (localhost, 127.0.0.1 or [::1], with a port); the page shows every mailed code and link, so serve it elsewhere only with -mailbox-public", m.mailbox)
		}
	}
	if m.smtp != "" {
		if _, _, err := net.SplitHostPort(m.smtp); err != nil {
			return fmt.Errorf("-smtp %q: %w", m.smtp, err)
		}
		if m.smtpUser != "" && os.Getenv(smtpPasswordEnv) == "" {
			return fmt.Errorf("-smtp-user needs the password in $%s", smtpPasswordEnv)
		}
	}
	if m.webhookURL != "" {
		u, err := url.Parse(m.webhookURL)
		if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && mailbox.Loopback(u.Hostname())) {
			return fmt.Errorf("-webhook-url %q: want an https URL, or http on loopback", m.webhookURL)
		}
		if n := len(os.Getenv(webhookSecretEnv)); n < 32 {
			return fmt.Errorf("-webhook-url needs a secret of at least 32 bytes in $%s (it has %d)", webhookSecretEnv, n)
		}
	}
	if len(m.redirects) == 0 {
		m.redirects = stringList{"http://localhost:3000/authenticate"}
	}
	return nil
}

// mailboxOff reports whether -mailbox asks for no dev mailbox.
func (m *mailFlags) mailboxOff() bool { return m.mailbox == "0" || m.mailbox == "off" }

// transport is the mail side of a running latch-local.
type transport struct {
	mailer engine.Mailer
	// banner is what run prints about it: the mailbox URL, or where mail goes.
	banner  string
	closers []func() error
}

func (t *transport) close() error {
	var errs []error
	for _, c := range slices.Backward(t.closers) {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// start returns the transport the flags name: SMTP or the webhook with
// their secrets from the environment, or the dev mailbox — an SMTP server
// on loopback that the engine delivers to, and its page on -mailbox.
func (m *mailFlags) start() (*transport, error) {
	switch {
	case m.smtp != "":
		s := &mail.SMTP{Addr: m.smtp, Username: m.smtpUser, RequireTLS: m.smtpRequireTLS}
		if m.smtpUser != "" {
			s.Password = os.Getenv(smtpPasswordEnv)
		}
		how := ""
		if m.smtpUser != "" {
			how += ", user " + m.smtpUser
		}
		if m.smtpRequireTLS {
			how += ", STARTTLS required"
		}
		return &transport{mailer: s, banner: "mail:       smtp " + m.smtp + how + "\n"}, nil
	case m.webhookURL != "":
		u, _ := url.Parse(m.webhookURL) // checked
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		w := &mail.Webhook{URL: m.webhookURL, Secret: []byte(os.Getenv(webhookSecretEnv))}
		return &transport{mailer: w, banner: "mail:       webhook " + u.String() + "\n"}, nil
	case m.mailboxOff():
		return &transport{banner: "mail:       off (the email endpoints answer 503)\n"}, nil
	}
	var publicAddrs []string
	if m.mailboxPublic {
		publicAddrs = []string{m.mailbox}
	}
	return startDevMailbox(m.mailbox, publicAddrs)
}

// startDevMailbox serves the dev mailbox's page on pageAddr, answering
// the Hosts mailbox.Handler allows with publicAddrs.
func startDevMailbox(pageAddr string, publicAddrs []string) (*transport, error) {
	t := &transport{}
	box := mailbox.New(0)
	smtpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev mailbox: %w", err)
	}
	srv := mailbox.ServeSMTP(smtpLn, box, mailbox.SMTPConfig{})
	t.closers = append(t.closers, srv.Close)
	pageLn, err := net.Listen("tcp", pageAddr)
	if err != nil {
		t.close()
		return nil, fmt.Errorf("dev mailbox page: %w (use -mailbox to pick another address)", err)
	}
	page := &http.Server{Handler: mailbox.Handler(box, publicAddrs...), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = page.Serve(pageLn) }()
	t.closers = append(t.closers, page.Close)
	t.mailer = &mail.SMTP{Addr: srv.Addr}
	t.banner = fmt.Sprintf("mailbox:    http://%s/\n", pageLn.Addr())
	return t, nil
}

// mailKinds are the kinds a template file may be for.
var mailKinds = []string{engine.MailMagicLinkLogin, engine.MailMagicLinkSignup, engine.MailOTP, engine.MailPasswordReset}

// loadTemplates reads the template overrides in dir: <kind>.subject,
// <kind>.txt and <kind>.html, each optional. Any other file (but a
// hidden one) is an error, so that a misspelt name does not silently
// keep the built-in message.
func loadTemplates(dir string) (map[string]engine.MailTemplate, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("-mail-templates: %w", err)
	}
	out := map[string]engine.MailTemplate{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		kind, ext, _ := strings.Cut(name, ".")
		if e.IsDir() || !slices.Contains(mailKinds, kind) || !slices.Contains([]string{"subject", "txt", "html"}, ext) {
			return nil, fmt.Errorf("-mail-templates: %s is not <kind>.subject, <kind>.txt or <kind>.html for a kind in %v", filepath.Join(dir, name), mailKinds)
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("-mail-templates: %w", err)
		}
		t := out[kind]
		switch ext {
		case "subject":
			t.Subject = strings.TrimRight(string(raw), "\r\n")
		case "txt":
			t.Text = string(raw)
		case "html":
			t.HTML = string(raw)
		}
		out[kind] = t
	}
	return out, nil
}
