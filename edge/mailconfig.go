package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/latchauth/latch/wasm/engine"
)

// Names of the Worker's mail settings (wrangler.toml, .dev.vars).
const (
	varMail          = "LATCH_MAIL"
	varMailFrom      = "LATCH_MAIL_FROM"
	varWebhookURL    = "LATCH_MAIL_WEBHOOK_URL"
	secretWebhook    = "LATCH_MAIL_WEBHOOK_SECRET"
	varRedirectURLs  = "LATCH_REDIRECT_URLS"
	varProjectName   = "LATCH_PROJECT_NAME"
	varMailTemplates = "LATCH_MAIL_TEMPLATES"
	bindingMail      = "MAIL"
)

// The transports LATCH_MAIL names.
const (
	transportSendEmail = "send_email"
	transportWebhook   = "webhook"
)

// minWebhookSecret is the shortest LATCH_MAIL_WEBHOOK_SECRET accepted.
const minWebhookSecret = 32

// mailConfig is what the Worker's mail settings say, checked. Transport is
// "" when LATCH_MAIL is unset: the engine then has no Mailer and its email
// endpoints answer 503 email_delivery_unavailable.
type mailConfig struct {
	Transport    string
	From         string // as configured, "addr" or "Name <addr>"
	FromAddress  string // the bare address of From
	WebhookURL   string
	Secret       []byte
	RedirectURLs []string
	ProjectName  string
	Templates    map[string]engine.MailTemplate
}

// parseMailConfig reads and checks the mail settings through get (a
// Worker env lookup, "" when unset). Its errors name the setting at fault,
// never its value. See RATIONALE.md, "How does the Worker send mail?".
func parseMailConfig(get func(string) string) (mailConfig, error) {
	c := mailConfig{ProjectName: get(varProjectName)}
	var err error
	if c.RedirectURLs, err = parseRedirectURLs(get(varRedirectURLs)); err != nil {
		return c, err
	}
	if c.Templates, err = parseTemplates(get(varMailTemplates)); err != nil {
		return c, err
	}
	switch c.Transport = get(varMail); c.Transport {
	case "":
		return c, nil
	case transportSendEmail:
	case transportWebhook:
		if c.WebhookURL, err = checkWebhookURL(get(varWebhookURL)); err != nil {
			return c, err
		}
		secret := get(secretWebhook)
		if secret == "" {
			return c, errors.New(secretWebhook + " is not set")
		}
		if len(secret) < minWebhookSecret {
			return c, fmt.Errorf("%s is shorter than %d bytes", secretWebhook, minWebhookSecret)
		}
		c.Secret = []byte(secret)
	default:
		return c, fmt.Errorf("%s is neither %s nor %s", varMail, transportSendEmail, transportWebhook)
	}
	c.From = get(varMailFrom)
	if c.From == "" {
		return c, errors.New(varMailFrom + " is not set")
	}
	a, err := mail.ParseAddress(c.From)
	if err != nil {
		return c, errors.New(varMailFrom + " is not an address or \"Name <address>\"")
	}
	c.FromAddress = a.Address
	return c, nil
}

// parseRedirectURLs splits the comma-separated allow-list; the engine
// checks each entry (engine.New).
func parseRedirectURLs(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var list []string
	for _, u := range strings.Split(raw, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			return nil, errors.New(varRedirectURLs + " has an empty entry")
		}
		list = append(list, u)
	}
	return list, nil
}

// parseTemplates reads the JSON object kind → {subject, text, html}; the
// engine checks the kinds and the templates (engine.New). The JSON error
// is not echoed: it can quote the input.
func parseTemplates(raw string) (map[string]engine.MailTemplate, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var in map[string]struct {
		Subject string `json:"subject"`
		Text    string `json:"text"`
		HTML    string `json:"html"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in == nil || dec.More() {
		return nil, errors.New(varMailTemplates + " is not a JSON object of kind → {subject, text, html}")
	}
	out := make(map[string]engine.MailTemplate, len(in))
	for kind, t := range in {
		out[kind] = engine.MailTemplate{Subject: t.Subject, Text: t.Text, HTML: t.HTML}
	}
	return out, nil
}

// checkWebhookURL accepts an absolute https URL, or http to a loopback
// host (a local receiver, as `make dev` runs): the posts carry login codes.
func checkWebhookURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New(varWebhookURL + " is not set")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", errors.New(varWebhookURL + " is not an absolute URL without user info or fragment")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", errors.New(varWebhookURL + " is not https (http only to a loopback host)")
	}
	return raw, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
