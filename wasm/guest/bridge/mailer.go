package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// Mailer is an engine.Mailer that asks the host to deliver. The host
// holds the transport — SMTP credentials, a webhook's secret — and the
// guest holds none of it (see RATIONALE.md, "Why is mail a host
// capability?").
type Mailer struct {
	call Call
}

var _ engine.Mailer = (*Mailer)(nil)

// NewMailer returns a mailer that hands every message to the host.
func NewMailer(call Call) *Mailer { return &Mailer{call: call} }

// Send hands m to the host and returns once the host's transport has
// delivered it, or with the host's reason why not.
func (m *Mailer) Send(ctx context.Context, msg *engine.Message) error {
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
