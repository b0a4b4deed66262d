//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall/js"
	"time"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/mail"
)

// sendEmailMailer delivers through Cloudflare's send_email binding (MAIL in
// wrangler.toml): Go composes the MIME message with mail.Compose, and the
// glue's sendEmail(from, to, raw) wraps it in an EmailMessage (from
// "cloudflare:email") and awaits env.MAIL.send. A rejection is a delivery
// failure. See RATIONALE.md, "How does the Worker send mail?".
type sendEmailMailer struct {
	from string // the bare address of the envelope sender
	send js.Value
	now  func() time.Time
}

var _ engine.Mailer = (*sendEmailMailer)(nil)

// newSendEmailMailer takes the glue's sendEmail function; from is the
// envelope sender, which must be the address of the message's From.
func newSendEmailMailer(send js.Value, from string) (*sendEmailMailer, error) {
	if send.Type() != js.TypeFunction {
		return nil, errors.New("the glue has no sendEmail function")
	}
	return &sendEmailMailer{from: from, send: send, now: time.Now}, nil
}

// Send composes m and hands it to the binding.
func (s *sendEmailMailer) Send(ctx context.Context, m *engine.Message) error {
	raw, err := mail.Compose(m, s.now())
	if err != nil {
		return fmt.Errorf("edge: send_email: %w", err)
	}
	if _, err := await(ctx, s.send.Invoke(s.from, m.To, string(raw))); err != nil {
		return fmt.Errorf("edge: send_email: %w", err)
	}
	return nil
}

// mailerFromEnv builds the engine's Mailer from c: nil when LATCH_MAIL is
// unset.
func mailerFromEnv(c mailConfig, env, binding js.Value) (engine.Mailer, error) {
	switch c.Transport {
	case transportSendEmail:
		if t := env.Get(bindingMail); t.Type() != js.TypeObject {
			return nil, fmt.Errorf("%s is %s but the send_email binding %s is missing", varMail, transportSendEmail, bindingMail)
		}
		return newSendEmailMailer(binding.Get("sendEmail"), c.FromAddress)
	case transportWebhook:
		post := binding.Get("postWebhook")
		if post.Type() != js.TypeFunction {
			return nil, errors.New("the glue has no postWebhook function")
		}
		return &mail.Webhook{URL: c.WebhookURL, Secret: c.Secret, Post: fetchPoster(post)}, nil
	}
	return nil, nil
}

// fetchPoster is mail.Webhook's Post through the glue's postWebhook, which
// posts with the Fetch API (see RATIONALE.md, "How does the Worker send
// mail?").
func fetchPoster(post js.Value) func(context.Context, string, http.Header, []byte) (int, error) {
	uint8Array := js.Global().Get("Uint8Array")
	return func(ctx context.Context, url string, header http.Header, body []byte) (int, error) {
		b := uint8Array.New(len(body))
		js.CopyBytesToJS(b, body)
		v, err := await(ctx, post.Invoke(url, formatHeaders(header), b))
		if err != nil {
			return 0, err
		}
		if v.Type() != js.TypeNumber {
			return 0, errors.New("postWebhook resolved to no status")
		}
		return v.Int(), nil
	}
}
