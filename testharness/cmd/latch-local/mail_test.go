package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/engine"
)

// pageMessage is a message as the mailbox page's /messages.json lists it.
type pageMessage struct {
	Via, Kind, From, To, Subject, Text string
}

// waitPage polls the mailbox page over HTTP until a message to to shows.
func waitPage(t *testing.T, pageURL, to string) pageMessage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(pageURL + "messages.json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs []pageMessage
		err = json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.To == to {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s on %s: %+v", to, pageURL, msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// otpLogin sends a code to email and authenticates with code(mail).
func otpLogin(t *testing.T, f map[string]string, email string, read func() (subject, text string)) string {
	t.Helper()
	status, sent := request(t, f, "POST", "/v1/otps/email/login_or_create", fmt.Sprintf(`{"email":%q}`, email))
	if status != http.StatusOK {
		t.Fatalf("send code: %d %v", status, sent)
	}
	subject, text := read()
	code := codeRE.FindString(text)
	status, auth := request(t, f, "POST", "/v1/otps/authenticate", fmt.Sprintf(`{"method_id":%q,"code":%q,"session_duration_minutes":5}`, sent["email_id"], code))
	if status != http.StatusOK || auth["user_id"] != sent["user_id"] {
		t.Fatalf("authenticate code %q from %q: %d %v", code, text, status, auth)
	}
	return subject
}

// TestRunDevMailbox runs latch-local with no transport flag: it names the
// dev mailbox's URL next to the credentials, and a code sent through it
// arrives over its SMTP server and shows on the page, over real HTTP.
func TestRunDevMailbox(t *testing.T) {
	f, stop := start(t, "-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db"), "-mailbox", "127.0.0.1:0")
	defer stop()
	page := f["mailbox:"]
	if !strings.HasPrefix(page, "http://127.0.0.1:") || !strings.HasSuffix(page, "/") {
		t.Fatalf("mailbox URL %q; printed %v", page, f)
	}
	var got pageMessage
	subject := otpLogin(t, f, "dev@example.com", func() (string, string) {
		got = waitPage(t, page, "dev@example.com")
		return got.Subject, got.Text
	})
	if got.Via != "smtp" || got.Kind != engine.MailOTP || got.From != "login@localhost" || !strings.HasPrefix(subject, "Your Latch code: ") {
		t.Errorf("dev mailbox got %+v", got)
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), subject) {
		t.Errorf("the mailbox page does not list %q", subject)
	}
	req, _ := http.NewRequest(http.MethodGet, page+"messages.json", nil)
	req.Host = "evil.example:8025" // a DNS-rebinding page's requests
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(string(body), "dev@example.com") {
		t.Errorf("messages.json with Host evil.example: %d %q, want 421 and no mail", resp.StatusCode, body)
	}
}

// TestRunMailboxAddress refuses a dev mailbox page off loopback unless
// -mailbox-public says so, and -mailbox-public without a dev mailbox.
func TestRunMailboxAddress(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
		msg  string // in stderr
	}{
		{name: "all interfaces", args: []string{"-mailbox", ":0"}, want: 2, msg: `-mailbox ":0" is not a loopback address`},
		{name: "all IPv4 interfaces", args: []string{"-mailbox", "0.0.0.0:0"}, want: 2, msg: "serve it elsewhere only with -mailbox-public"},
		{name: "an address off loopback", args: []string{"-mailbox", "192.0.2.7:0"}, want: 2, msg: `-mailbox "192.0.2.7:0" is not a loopback address`},
		{name: "a name", args: []string{"-mailbox", "mailbox.lan:0"}, want: 2, msg: `-mailbox "mailbox.lan:0" is not a loopback address`},
		{name: "no port", args: []string{"-mailbox", "localhost"}, want: 2, msg: "(localhost, 127.0.0.1 or [::1], with a port)"},
		{name: "public with a transport", args: []string{"-mailbox-public", "-smtp", "127.0.0.1:25"}, want: 2, msg: "-mailbox-public is for the dev mailbox"},
		{name: "public with no mailbox", args: []string{"-mailbox-public", "-mailbox", "off"}, want: 2, msg: "-mailbox-public is for the dev mailbox"},
		// 192.0.2.7 is no address of this machine's: -mailbox-public lets
		// run on to listen, which fails, without serving off loopback.
		{name: "off loopback with -mailbox-public", args: []string{"-mailbox-public", "-mailbox", "192.0.2.7:0"}, want: 1, msg: "dev mailbox page: listen tcp 192.0.2.7:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db")}, tt.args...)
			if got := run(args, &stdout, &stderr); got != tt.want {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.msg)
			}
		})
	}
}

// TestRunSMTPFlags sends through -smtp to an SMTP server that demands
// AUTH, with the password from the environment, and shapes the messages
// with -mail-from, -project-name, -redirect-url and -mail-templates.
func TestRunSMTPFlags(t *testing.T) {
	const password = "password from the environment"
	t.Setenv(smtpPasswordEnv, password)
	box := mailbox.New(0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := mailbox.ServeSMTP(l, box, mailbox.SMTPConfig{Username: "latch", Password: password})
	defer srv.Close()
	templates := t.TempDir()
	for name, text := range map[string]string{
		"otp.subject":          "{{.ProjectName}} sign-in code {{.Code}}\n",
		"magic_link_login.txt": "Sign in to {{.ProjectName}}: {{.Link}}\n",
		".editor-swap":         "ignored",
	} {
		if err := os.WriteFile(filepath.Join(templates, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var stdout syncBuffer
	f, stop := startOut(t, &stdout, "-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db"),
		"-smtp", srv.Addr, "-smtp-user", "latch", "-mail-from", "Acme <hi@acme.test>", "-project-name", "Acme",
		"-redirect-url", "http://app.test/auth", "-redirect-url", "http://app.test/other", "-mail-templates", templates)
	defer stop()
	if f["mail:"] != "smtp "+srv.Addr+", user latch" || f["mailbox:"] != "" {
		t.Errorf("printed mail %q, mailbox %q", f["mail:"], f["mailbox:"])
	}
	read := func(to string) func() (string, string) {
		return func() (string, string) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			m, err := box.Wait(ctx, to, 0)
			if err != nil {
				t.Fatal(err)
			}
			if m.From != "hi@acme.test" {
				t.Errorf("from %q, want hi@acme.test", m.From)
			}
			return m.Subject, m.Text
		}
	}
	if subject := otpLogin(t, f, "smtp@example.com", read("smtp@example.com")); !regexp.MustCompile(`^Acme sign-in code \d{6}$`).MatchString(subject) {
		t.Errorf("subject %q does not follow otp.subject", subject)
	}
	// An existing user gets the login link (a user login_or_create
	// creates gets the signup one).
	if status, out := request(t, f, "POST", "/v1/users", `{"email":"link@example.com"}`); status != http.StatusOK {
		t.Fatalf("create user: %d %v", status, out)
	}
	status, out := request(t, f, "POST", "/v1/magic_links/email/login_or_create", `{"email":"link@example.com"}`)
	if status != http.StatusOK {
		t.Fatalf("send link: %d %v", status, out)
	}
	if _, text := read("link@example.com")(); !strings.HasPrefix(text, "Sign in to Acme: http://app.test/auth?") {
		t.Errorf("link mail %q does not follow magic_link_login.txt and the first -redirect-url", text)
	}
	status, out = request(t, f, "POST", "/v1/magic_links/email/send", `{"email":"link@example.com","login_magic_link_url":"http://elsewhere.test/auth"}`)
	if status != http.StatusBadRequest || out["error_type"] != "invalid_redirect_url" {
		t.Errorf("redirect off the list: %d %v", status, out)
	}
	if strings.Contains(stdout.String(), password) {
		t.Errorf("the SMTP password was printed")
	}
}

// TestRunWebhookFlag sends through -webhook-url, signed with the secret
// from the environment, to a mailbox's webhook receiver.
func TestRunWebhookFlag(t *testing.T) {
	secret := "a webhook secret of at least thirty-two bytes"
	t.Setenv(webhookSecretEnv, secret)
	box := mailbox.New(0)
	srv := httptest.NewServer(mailbox.WebhookHandler(box, []byte(secret)))
	defer srv.Close()
	f, stop := start(t, "-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db"), "-webhook-url", srv.URL+"/hook?token=x")
	defer stop()
	if f["mail:"] != "webhook "+srv.URL+"/hook" {
		t.Errorf("printed mail %q, want the URL without its query", f["mail:"])
	}
	otpLogin(t, f, "hook@example.com", func() (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		m, err := box.Wait(ctx, "hook@example.com", 0)
		if err != nil {
			t.Fatal(err)
		}
		if m.Via != "webhook" {
			t.Errorf("came by %s", m.Via)
		}
		return m.Subject, m.Text
	})
}

func TestLoadTemplates(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]engine.MailTemplate
		err   string
	}{
		{name: "none", files: map[string]string{}, want: map[string]engine.MailTemplate{}},
		{name: "all three of a kind", files: map[string]string{"otp.subject": "S {{.Code}}\r\n", "otp.txt": "T\n", "otp.html": "<p>H</p>\n"},
			want: map[string]engine.MailTemplate{engine.MailOTP: {Subject: "S {{.Code}}", Text: "T\n", HTML: "<p>H</p>\n"}}},
		{name: "unknown kind", files: map[string]string{"welcome.txt": "x"}, err: "welcome.txt is not <kind>.subject"},
		{name: "misspelt extension", files: map[string]string{"otp.text": "x"}, err: "otp.text is not <kind>.subject"},
		{name: "no extension", files: map[string]string{"password_reset": "x"}, err: "password_reset is not <kind>.subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := loadTemplates(dir)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, err := loadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing dir: err = %v", err)
	}
}
