package engine

import "context"

// Mailer delivers the engine's mail: magic links, one-time codes and
// password reset links. It is a host capability like the Signer: the
// Worker sends through Cloudflare's send_email binding or a signed
// webhook, the Go hosts through SMTP or the same webhook. The engine
// builds the message (its templates live here); the transport only
// carries it. See RATIONALE.md, "Why is mail a host capability?".
type Mailer interface {
	// Send delivers m, or reports why it could not. The engine answers
	// the request with an error when it fails, and leaves nothing behind
	// that the mail would have made usable.
	Send(ctx context.Context, m *Message) error
}

// Message is one mail, ready to send.
type Message struct {
	// From is the sender, an address or "Name <address>".
	From string
	// To is the recipient's address.
	To string
	// Subject, Text and HTML are the message; Text and HTML say the
	// same, for clients that show one or the other.
	Subject string
	Text    string
	HTML    string
	// Kind names what the message is for, for transports that route or
	// log by it: one of the Mail… constants.
	Kind string
}

// The kinds of Message the engine sends.
const (
	MailMagicLinkLogin  = "magic_link_login"
	MailMagicLinkSignup = "magic_link_signup"
	MailOTP             = "otp"
	MailPasswordReset   = "password_reset"
)
