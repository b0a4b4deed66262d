package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/mail"
)

const secret = "the dev mailbox's webhook secret, 32+ bytes"

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		secret string
		want   int
		msg    string
	}{
		{name: "help", args: []string{"-h"}, secret: secret, want: 0, msg: "-http"},
		{name: "unknown flag", args: []string{"-bogus"}, secret: secret, want: 2, msg: "-http"},
		{name: "no secret", want: 2, msg: "at least 32 bytes in $LATCH_MAIL_WEBHOOK_SECRET (it has 0)"},
		{name: "short secret", secret: strings.Repeat("s", 31), want: 2, msg: "(it has 31)"},
		{name: "extra argument", args: []string{"serve"}, secret: secret, want: 2, msg: `got ["serve"]`},
		{name: "bad address", args: []string{"-http", "127.0.0.1:-1"}, secret: secret, want: 1, msg: "latch-mailbox: listen tcp"},
		{name: "all interfaces", args: []string{"-http", ":0"}, secret: secret, want: 2, msg: `-http ":0" is not a loopback address`},
		{name: "all IPv4 interfaces", args: []string{"-http", "0.0.0.0:0"}, secret: secret, want: 2, msg: "serve it elsewhere only with -public"},
		{name: "an address off loopback", args: []string{"-http", "192.0.2.7:0"}, secret: secret, want: 2, msg: `-http "192.0.2.7:0" is not a loopback address`},
		{name: "a name", args: []string{"-http", "mailbox.lan:0"}, secret: secret, want: 2, msg: `-http "mailbox.lan:0" is not a loopback address`},
		{name: "smtp on all interfaces", args: []string{"-http", "127.0.0.1:0", "-smtp", ":0"}, secret: secret, want: 2, msg: `-smtp ":0" is not a loopback address`},
		{name: "smtp off loopback", args: []string{"-http", "127.0.0.1:0", "-smtp", "192.0.2.7:0"}, secret: secret, want: 2, msg: `-smtp "192.0.2.7:0" is not a loopback address`},
		{name: "no port", args: []string{"-http", "localhost"}, secret: secret, want: 2, msg: `-http "localhost" is not a loopback address (localhost, 127.0.0.1 or [::1], with a port)`},
		// 192.0.2.7 is no address of this machine's: -public lets run on
		// to listen, which fails, without serving off loopback.
		{name: "off loopback with -public", args: []string{"-public", "-http", "192.0.2.7:0"}, secret: secret, want: 1, msg: "latch-mailbox: listen tcp 192.0.2.7:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(secretEnv, tt.secret)
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.msg)
			}
		})
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// messages reads the page's /messages.json over HTTP.
func messages(t *testing.T, page string) []map[string]any {
	t.Helper()
	resp, err := http.Get(page + "messages.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunServes runs latch-mailbox on free ports and delivers to it over
// real HTTP and SMTP: a signed webhook post and an SMTP message show on
// the page; an unsigned post is refused and not stored, a replayed one is
// refused 409 and stored once; the page refuses a Host off loopback.
func TestRunServes(t *testing.T) {
	t.Setenv(secretEnv, secret)
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run([]string{"-http", "127.0.0.1:0", "-smtp", "127.0.0.1:0"}, &stdout, &stderr) }()
	re := regexp.MustCompile(`(?m)^(latch-mailbox: serving|webhook:|smtp:)\s+(\S+)$`)
	f := map[string]string{}
	for deadline := time.Now().Add(10 * time.Second); len(f) < 3; time.Sleep(10 * time.Millisecond) {
		for _, m := range re.FindAllStringSubmatch(stdout.String(), -1) {
			f[m[1]] = m[2]
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not start: %s %s", stdout.String(), stderr.String())
		}
	}
	page, hook := f["latch-mailbox: serving"], f["webhook:"]
	if hook != page+"webhook" {
		t.Fatalf("webhook %q is not under the page %q", hook, page)
	}
	ctx := context.Background()
	msg := &engine.Message{From: "Latch <login@localhost>", To: "hook@example.com", Subject: "Your Latch code: 123456",
		Text: "code 123456\n", HTML: "<p>123456</p>", Kind: engine.MailOTP}
	if err := (&mail.Webhook{URL: hook, Secret: []byte(secret)}).Send(ctx, msg); err != nil {
		t.Fatalf("signed post: %v", err)
	}
	smtpMsg := *msg
	smtpMsg.To = "smtp@example.com"
	if err := (&mail.SMTP{Addr: f["smtp:"]}).Send(ctx, &smtpMsg); err != nil {
		t.Fatalf("smtp: %v", err)
	}
	unsigned := []*http.Request{}
	for _, sign := range []string{"", "v1=00"} {
		req, _ := http.NewRequest("POST", hook, strings.NewReader(`{"to":"forged@example.com","subject":"forged"}`))
		req.Header.Set(mail.TimestampHeader, strconv.FormatInt(time.Now().Unix(), 10)) // fresh: only the signature is wrong
		if sign != "" {
			req.Header.Set(mail.SignatureHeader, sign)
		}
		unsigned = append(unsigned, req)
	}
	for _, req := range unsigned {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned post (%q): %d, want 401", req.Header.Get(mail.SignatureHeader), resp.StatusCode)
		}
	}
	for i := range 2 {
		const body = `{"id":"00112233445566778899aabbccddeeff","to":"replay@example.com","subject":"once"}`
		req, _ := http.NewRequest("POST", hook, strings.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(mail.TimestampHeader, ts)
		req.Header.Set(mail.SignatureHeader, "v1="+mail.Sign([]byte(secret), ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := []int{http.StatusNoContent, http.StatusConflict}[i]; resp.StatusCode != want {
			t.Errorf("post %d of one id: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	for _, host := range []string{"evil.example:8025", "192.0.2.7:8025"} {
		req, _ := http.NewRequest("GET", page+"messages.json", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("GET messages.json with Host %s: %d, want 421", host, resp.StatusCode)
		}
	}
	got := messages(t, page)
	if len(got) != 3 {
		t.Fatalf("page lists %d messages, want 3: %v", len(got), got)
	}
	if got[2]["to"] != "replay@example.com" {
		t.Errorf("message 2: %v, want the replayed id's, once", got[2])
	}
	for i, want := range []struct{ via, to string }{{"webhook", "hook@example.com"}, {"smtp", "smtp@example.com"}} {
		if got[i]["via"] != want.via || got[i]["to"] != want.to || got[i]["subject"] != msg.Subject || got[i]["kind"] != engine.MailOTP {
			t.Errorf("message %d: %v, want %s to %s", i, got[i], want.via, want.to)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Fatalf("exit %d after SIGINT; stderr %s", c, stderr.String())
	}
}
