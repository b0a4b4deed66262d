package conformance

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
)

// mailWait bounds how long ReadMail waits for a message.
const mailWait = 20 * time.Second

// MailboxReader is a Target.ReadMail that reads what a host delivered
// into b (over SMTP, the webhook or any other real transport), in order,
// per address.
func MailboxReader(b *mailbox.Mailbox) func(t *testing.T, to string) Mail {
	var mu sync.Mutex
	seen := map[string]int{} // address → ID of the last message returned
	return func(t *testing.T, to string) Mail {
		t.Helper()
		mu.Lock()
		after := seen[to]
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), mailWait)
		defer cancel()
		m, err := b.Wait(ctx, to, after)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		seen[to] = m.ID
		mu.Unlock()
		return Mail{Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	}
}
