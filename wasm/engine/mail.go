package engine

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
)

// MailTemplate is the source of one kind of message. It is text with
// placeholders naming MailData's fields — {{.ProjectName}}, {{.Email}},
// {{.Link}}, {{.Code}}, {{.ExpiresInMinutes}} — and nothing else: values
// are HTML-escaped in HTML. (Go's template packages would cost the Worker
// megabytes: the linker keeps every exported method once reflection may
// call one by name. See RATIONALE.md, "Why are mail templates only
// placeholders?".)
type MailTemplate struct {
	Subject string
	Text    string
	HTML    string
}

// MailData is what a MailTemplate may use.
type MailData struct {
	// ProjectName names the project (Config.ProjectName).
	ProjectName string
	// Email is the recipient.
	Email string
	// Link is the magic link or reset link; empty in a code's message.
	Link string
	// Code is the one-time code; empty in a link's message.
	Code string
	// ExpiresInMinutes is how long the link or code works.
	ExpiresInMinutes int
}

// field returns the value of the MailData field a placeholder names.
func (d *MailData) field(name string) (string, bool) {
	switch name {
	case "ProjectName":
		return d.ProjectName, true
	case "Email":
		return d.Email, true
	case "Link":
		return d.Link, true
	case "Code":
		return d.Code, true
	case "ExpiresInMinutes":
		return strconv.Itoa(d.ExpiresInMinutes), true
	}
	return "", false
}

// template is a MailTemplate text split into literal text and the names
// of the fields between them: lit[0] name[0] lit[1] … lit[n].
type template struct {
	lit  []string
	name []string
}

// parseTemplate splits src at its placeholders; an unknown field or an
// unclosed placeholder is an error.
func parseTemplate(src string) (*template, error) {
	t := &template{}
	for {
		open := strings.Index(src, "{{")
		if open < 0 {
			t.lit = append(t.lit, src)
			return t, nil
		}
		end := strings.Index(src[open:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("unclosed {{ at %q", clip(src[open:]))
		}
		name, ok := strings.CutPrefix(strings.TrimSpace(src[open+2:open+end]), ".")
		if _, known := (&MailData{}).field(name); !ok || !known {
			return nil, fmt.Errorf("unknown placeholder %q (known: .ProjectName .Email .Link .Code .ExpiresInMinutes)", clip(src[open:open+end+2]))
		}
		t.lit = append(t.lit, src[:open])
		t.name = append(t.name, name)
		src = src[open+end+2:]
	}
}

// execute fills t with d's values, escaped by escape.
func (t *template) execute(d *MailData, escape func(string) string) string {
	var b strings.Builder
	for i, lit := range t.lit {
		b.WriteString(lit)
		if i < len(t.name) {
			v, _ := d.field(t.name[i])
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

// defaultTemplates are the messages the engine sends unless
// Config.MailTemplates overrides them.
func defaultTemplates() map[string]MailTemplate {
	return map[string]MailTemplate{
		MailMagicLinkLogin: {
			Subject: "Your {{.ProjectName}} login link",
			Text:    "Log in to {{.ProjectName}} with this link:\n\n{{.Link}}\n\nIt works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail.\n",
			HTML:    `<p>Log in to {{.ProjectName}} with this link:</p><p><a href="{{.Link}}">Log in to {{.ProjectName}}</a></p><p>It works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail.</p>`,
		},
		MailMagicLinkSignup: {
			Subject: "Finish signing up for {{.ProjectName}}",
			Text:    "Finish signing up for {{.ProjectName}} with this link:\n\n{{.Link}}\n\nIt works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail.\n",
			HTML:    `<p>Finish signing up for {{.ProjectName}} with this link:</p><p><a href="{{.Link}}">Sign up for {{.ProjectName}}</a></p><p>It works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail.</p>`,
		},
		MailOTP: {
			Subject: "Your {{.ProjectName}} code: {{.Code}}",
			Text:    "Your {{.ProjectName}} login code is {{.Code}}\n\nIt works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail.\n",
			HTML:    `<p>Your {{.ProjectName}} login code is</p><p style="font-size:24px;letter-spacing:4px"><strong>{{.Code}}</strong></p><p>It works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail.</p>`,
		},
		MailPasswordReset: {
			Subject: "Reset your {{.ProjectName}} password",
			Text:    "Reset your {{.ProjectName}} password with this link:\n\n{{.Link}}\n\nIt works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail: your password stays as it is.\n",
			HTML:    `<p>Reset your {{.ProjectName}} password with this link:</p><p><a href="{{.Link}}">Reset your password</a></p><p>It works once, for {{.ExpiresInMinutes}} minutes. If you did not ask for it, ignore this mail: your password stays as it is.</p>`,
		},
	}
}

// mailTemplate is a MailTemplate parsed.
type mailTemplate struct {
	subject, text, html *template
}

// parseTemplates parses the default templates with overrides applied.
func parseTemplates(overrides map[string]MailTemplate) (map[string]*mailTemplate, error) {
	defaults := defaultTemplates()
	out := make(map[string]*mailTemplate, len(defaults))
	for kind := range overrides {
		if _, ok := defaults[kind]; !ok {
			return nil, fmt.Errorf("engine: mail template for unknown kind %q", kind)
		}
	}
	for kind, src := range defaults {
		if o, ok := overrides[kind]; ok {
			if o.Subject != "" {
				src.Subject = o.Subject
			}
			if o.Text != "" {
				src.Text = o.Text
			}
			if o.HTML != "" {
				src.HTML = o.HTML
			}
		}
		t := &mailTemplate{}
		for _, part := range []struct {
			name string
			src  string
			dst  **template
		}{{"subject", src.Subject, &t.subject}, {"text", src.Text, &t.text}, {"html", src.HTML, &t.html}} {
			parsed, err := parseTemplate(part.src)
			if err != nil {
				return nil, fmt.Errorf("engine: mail template %s %s: %w", kind, part.name, err)
			}
			*part.dst = parsed
		}
		out[kind] = t
	}
	return out, nil
}

func (t *mailTemplate) render(kind, from string, d *MailData) *Message {
	plain := func(s string) string { return s }
	// A subject is one line, whatever a template or its data holds.
	subject := strings.Join(strings.Fields(t.subject.execute(d, plain)), " ")
	return &Message{From: from, To: d.Email, Subject: subject, Text: t.text.execute(d, plain),
		HTML: t.html.execute(d, html.EscapeString), Kind: kind}
}

// sendMail renders and delivers a message of kind to d.Email.
func (e *Engine) sendMail(ctx context.Context, kind string, d *MailData) error {
	d.ProjectName = e.cfg.ProjectName
	m := e.templates[kind].render(kind, e.cfg.MailFrom, d)
	if err := e.cfg.Mailer.Send(ctx, m); err != nil {
		e.cfg.Logger.Error("engine: mail not delivered", "kind", kind, "err", err)
		return errMailFailed
	}
	return nil
}

// checkRedirectURLs validates the allow-list of Config.RedirectURLs.
func checkRedirectURLs(list []string) error {
	for _, raw := range list {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			return fmt.Errorf("engine: redirect URL %q is not an absolute http(s) URL without user info or fragment", raw)
		}
	}
	return nil
}

// redirectURL returns the URL a mailed link leads to: raw when it is on
// the allow-list, the list's first entry when raw is empty. A URL is on
// the list when its scheme, host (with port) and path equal an entry's; it
// may add a query of its own. See RATIONALE.md, "Why an allow-list of
// redirect URLs?".
func (e *Engine) redirectURL(raw string) (string, error) {
	if raw == "" {
		if len(e.cfg.RedirectURLs) == 0 {
			return "", errNoRedirectURL
		}
		return e.cfg.RedirectURLs[0], nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" || len(raw) > 2048 {
		return "", errInvalidRedirectURL
	}
	for _, allowed := range e.cfg.RedirectURLs {
		a, _ := url.Parse(allowed)
		if strings.EqualFold(u.Scheme, a.Scheme) && strings.EqualFold(u.Host, a.Host) && u.EscapedPath() == a.EscapedPath() {
			return raw, nil
		}
	}
	return "", errInvalidRedirectURL
}

// mailedLink is redirect with stytch_token_type and token added to its
// query, as Stytch's mailed links are.
func mailedLink(redirect, tokenType, token string) string {
	u, _ := url.Parse(redirect) // checked by redirectURL
	q := u.Query()
	q.Set("stytch_token_type", tokenType)
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}

// Send limits per inbox: at most one mail in mailGap seconds and
// mailHourly in an hour, so that Latch cannot be used to flood an inbox.
// Addresses count by the inbox they reach (inboxOf): x+1@ and x+2@ share
// x@'s count.
const (
	mailGap    = 20
	mailHourly = 10
	mailWindow = 3600
)

// claimSend counts a mail to email's inbox before it is sent, in one
// conditional statement that also reads the user with email (nil when
// there is none: one D1 round trip for both), and answers
// too_many_requests when the inbox has had its share.
func (e *Engine) claimSend(ctx context.Context, email string, now int64) (*user, error) {
	cut := now - mailWindow
	var raw []byte
	err := e.cfg.DB.QueryRowContext(ctx, `INSERT INTO mail_sends (email, window_at, sent, last_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (email) DO UPDATE SET
			sent = CASE WHEN window_at <= ? THEN 1 ELSE sent + 1 END,
			window_at = CASE WHEN window_at <= ? THEN ? ELSE window_at END,
			last_at = ?
		WHERE last_at <= ? AND (window_at <= ? OR sent < ?)
		RETURNING `+userWhere("u.email = ?"),
		inboxOf(email), now, now, cut, cut, now, now, now-mailGap, cut, mailHourly, email).Scan(&raw)
	if errors.Is(err, errNoRows) {
		return nil, errTooManyRequests
	}
	if err != nil {
		return nil, fmt.Errorf("engine: count mail: %w", err)
	}
	u, err := optionalJSON[user](raw)
	if err != nil {
		return nil, fmt.Errorf("engine: load user: %w", err)
	}
	return u, nil
}

// mailReady answers email_delivery_unavailable when no mail transport is
// configured.
func (e *Engine) mailReady() error {
	if e.cfg.Mailer == nil {
		return errMailUnavailable
	}
	return nil
}

// inboxOf returns the inbox a normalised address reaches, for counting
// mail: its local part without a "+tag" (subaddressing, RFC 5233, which
// most providers deliver to the untagged inbox). Case was folded by
// normalEmail.
func inboxOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], addr[at:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	return local + domain
}
