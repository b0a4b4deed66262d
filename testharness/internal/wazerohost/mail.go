package wazerohost

import (
	"context"
	"fmt"
	"maps"
	"net/mail"
	"slices"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// mailSettings checks the mail fields of cfg and returns them as the
// guest's Config frame carries them. The engine in the guest checks them
// again (redirect URLs, template syntax, kinds) when it is configured;
// New reports its refusal as ErrConfig too.
func mailSettings(cfg *Config) (wire.Config, error) {
	w := wire.Config{Mail: cfg.Mailer != nil, MailFrom: cfg.MailFrom, ProjectName: cfg.ProjectName, RedirectURLs: slices.Clone(cfg.RedirectURLs)}
	if cfg.Mailer != nil && cfg.MailFrom == "" {
		return w, fmt.Errorf("%w: a Mailer needs MailFrom", ErrConfig)
	}
	if cfg.MailFrom != "" {
		if _, err := mail.ParseAddress(cfg.MailFrom); err != nil {
			return w, fmt.Errorf("%w: MailFrom %q: %w", ErrConfig, cfg.MailFrom, err)
		}
	}
	if len(cfg.ProjectName) > wire.MaxText {
		return w, fmt.Errorf("%w: ProjectName of %d bytes", ErrConfig, len(cfg.ProjectName))
	}
	if len(cfg.RedirectURLs) > wire.MaxRedirectURLs {
		return w, fmt.Errorf("%w: %d RedirectURLs, at most %d", ErrConfig, len(cfg.RedirectURLs), wire.MaxRedirectURLs)
	}
	for _, u := range cfg.RedirectURLs {
		if len(u) > wire.MaxText {
			return w, fmt.Errorf("%w: a redirect URL of %d bytes", ErrConfig, len(u))
		}
	}
	if len(cfg.MailTemplates) > wire.MaxTemplates {
		return w, fmt.Errorf("%w: %d MailTemplates, at most %d", ErrConfig, len(cfg.MailTemplates), wire.MaxTemplates)
	}
	for _, kind := range slices.Sorted(maps.Keys(cfg.MailTemplates)) {
		t := cfg.MailTemplates[kind]
		for _, f := range []string{kind, t.Subject, t.Text, t.HTML} {
			if len(f) > wire.MaxText {
				return w, fmt.Errorf("%w: mail template %q: a field of %d bytes, at most %d", ErrConfig, kind, len(f), wire.MaxText)
			}
		}
		w.MailTemplates = append(w.MailTemplates, wire.MailTemplate{Kind: kind, Subject: t.Subject, Text: t.Text, HTML: t.HTML})
	}
	return w, nil
}

// mailFrame delivers the guest's Mail frame through the host's transport
// and answers OK, or fails with the transport's reason, which the engine
// logs and turns into 502 email_delivery_failed.
func (s *Server) mailFrame(ctx context.Context, frame []byte) ([]byte, error) {
	m, err := wire.ParseMail(frame)
	if err != nil {
		return nil, err
	}
	if s.mailer == nil {
		return nil, fmt.Errorf("testharness: no mail transport")
	}
	err = s.mailer.Send(ctx, &engine.Message{From: m.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Kind: m.Kind})
	if err != nil {
		return nil, err
	}
	return wire.AppendOK(nil), nil
}
