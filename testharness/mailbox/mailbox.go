// Package mailbox is a local mailbox for Latch's mail: it receives
// messages over real transports — as an SMTP server, or as the receiver
// of the signed mail webhook — keeps them in memory, lets a test wait for
// the next one to an address, and shows them on a web page. `make dev` and
// latch-local run one as the developer's inbox; the tests run one per
// host to receive what the engine really sent.
//
// Mailbox is Latch's implementation, not API, and may change in any
// release. It is not under internal/ because the tests of wasm and edge
// use it as well as testharness's commands.
package mailbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Message is one message received.
type Message struct {
	// ID numbers messages in the order they arrived, from 1.
	ID       int
	Received time.Time
	// Via is the transport that brought it: "smtp", "webhook" or "file".
	Via     string
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	// Kind is the engine's message kind, when the transport carried it.
	Kind string
}

// Mailbox holds the messages received, newest last. The zero value is
// not usable; call New.
type Mailbox struct {
	mu       sync.Mutex
	messages []*Message
	changed  chan struct{} // closed and replaced on every delivery
	max      int
}

// New returns an empty mailbox that keeps at most max messages (the
// oldest go first); 1000 when max is 0.
func New(max int) *Mailbox {
	if max <= 0 {
		max = 1000
	}
	return &Mailbox{changed: make(chan struct{}), max: max}
}

// Add stores m, numbering it, and wakes every waiter.
func (b *Mailbox) Add(m *Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m.ID = 1
	if n := len(b.messages); n > 0 {
		m.ID = b.messages[n-1].ID + 1
	}
	if m.Received.IsZero() {
		m.Received = time.Now()
	}
	b.messages = append(b.messages, m)
	if len(b.messages) > b.max {
		b.messages = b.messages[len(b.messages)-b.max:]
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// Messages returns the messages held, oldest first.
func (b *Mailbox) Messages() []*Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Message(nil), b.messages...)
}

// Last returns the ID of the newest message, 0 when there is none.
func (b *Mailbox) Last() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.messages) == 0 {
		return 0
	}
	return b.messages[len(b.messages)-1].ID
}

// ErrNoMessage is returned by Wait when no message arrived in time.
var ErrNoMessage = errors.New("mailbox: no message arrived")

// Wait returns the first message to address to (case-insensitive) with an
// ID above after, waiting for it until ctx is done.
func (b *Mailbox) Wait(ctx context.Context, to string, after int) (*Message, error) {
	for {
		b.mu.Lock()
		for _, m := range b.messages {
			if m.ID > after && strings.EqualFold(m.To, to) {
				b.mu.Unlock()
				return m, nil
			}
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w for %s: %w", ErrNoMessage, to, ctx.Err())
		}
	}
}

// Parse reads an RFC 5322 message — plain, or multipart/alternative with
// text and HTML parts, in any transfer encoding Latch uses.
func Parse(raw io.Reader, via string) (*Message, error) {
	msg, err := mail.ReadMessage(raw)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	m := &Message{Via: via, From: address(msg.Header.Get("From")), To: address(msg.Header.Get("To")),
		Subject: subject, Kind: msg.Header.Get("X-Latch-Kind")}
	if err := readPart(m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

func readPart(m *Message, ctype, encoding string, body io.Reader) error {
	media, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		media = "text/plain"
	}
	if strings.HasPrefix(media, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mailbox: %w", err)
			}
			if err := readPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(encoding, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	switch media {
	case "text/html":
		m.HTML = text
	case "text/plain":
		m.Text = text
	}
	return nil
}

// address returns the bare address of a header value, or the value.
func address(v string) string {
	if a, err := mail.ParseAddress(v); err == nil {
		return a.Address
	}
	return strings.TrimSpace(v)
}
