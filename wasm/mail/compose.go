// Package mail carries the engine's messages: it composes them as MIME
// and delivers them by SMTP or by a signed HTTPS webhook. The hosts wire
// one of these as the engine's Mailer (engine.Config.Mailer); the Worker
// also composes here what it hands to Cloudflare's send_email binding.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// Compose returns m as an RFC 5322 message: multipart/alternative with a
// text/plain and a text/html part, both quoted-printable UTF-8, dated now.
func Compose(m *engine.Message, now time.Time) ([]byte, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", m.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	boundary := "latch-" + hex.EncodeToString(rnd[:])
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(rnd[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	if m.Kind != "" {
		header("X-Latch-Kind", oneLine(m.Kind))
	}
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.ctype)
		w := quotedprintable.NewWriter(&b)
		if _, err := w.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line, whatever it holds.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
