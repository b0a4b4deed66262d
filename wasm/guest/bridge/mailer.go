package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// mailer asks the host to deliver.
type mailer struct {
	call Call
}

// NewMailer returns an engine.Mailer that hands every message to the
// host. The host holds the transport — SMTP credentials, a webhook's
// secret — and the guest holds none of it (see RATIONALE.md, "Why is mail
// a host capability?"). Send returns once the host's transport has
// delivered the message, or with the host's reason why not.
func NewMailer(call Call) engine.Mailer { return &mailer{call: call} }

func (m *mailer) Send(ctx context.Context, msg *engine.Message) error {
	frame := wire.AppendMail(nil, &wire.Mail{
		From: msg.From, To: msg.To, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, Kind: msg.Kind,
	})
	answer, err := m.call(ctx, frame)
	if err != nil {
		return fmt.Errorf("bridge: mail: %w", err)
	}
	if err := wire.ParseOK(answer); err != nil {
		return fmt.Errorf("bridge: mail: %w", err)
	}
	return nil
}
