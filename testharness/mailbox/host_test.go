package mailbox_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch/testharness/mailbox"
)

// TestHandlerHost serves the page over real HTTP on loopback and asks for
// it under many Hosts: a DNS-rebinding Host is answered 421 on every path,
// with none of the mail; loopback Hosts, and with public addresses their
// hosts, are answered.
func TestHandlerHost(t *testing.T) {
	const subject = "Your Latch code: 424242"
	box := mailbox.New(0)
	box.Add(&mailbox.Message{Via: "smtp", To: "ada@example.com", Subject: subject, Text: "424242\n"})
	tests := []struct {
		name   string
		public []string
		host   string
		want   int
	}{
		{name: "127.0.0.1", host: "127.0.0.1:8025", want: http.StatusOK},
		{name: "localhost", host: "localhost:8025", want: http.StatusOK},
		{name: "::1", host: "[::1]:8025", want: http.StatusOK},
		{name: "localhost without port", host: "localhost", want: http.StatusOK},
		{name: "::1 without port", host: "[::1]", want: http.StatusOK},
		{name: "upper case localhost", host: "LocalHost:8025", want: http.StatusOK},
		{name: "other loopback address", host: "127.3.2.1:9000", want: http.StatusOK},
		{name: "rebinding name", host: "evil.example:8025", want: http.StatusMisdirectedRequest},
		{name: "rebinding name without port", host: "evil.example", want: http.StatusMisdirectedRequest},
		{name: "name ending in localhost", host: "localhost.evil.example:8025", want: http.StatusMisdirectedRequest},
		{name: "name starting with a loopback address", host: "127.0.0.1.evil.example:8025", want: http.StatusMisdirectedRequest},
		{name: "address off loopback", host: "192.0.2.7:8025", want: http.StatusMisdirectedRequest},
		{name: "unspecified address", host: "0.0.0.0:8025", want: http.StatusMisdirectedRequest},
		{name: "unclosed bracket", host: "[::1:8025", want: http.StatusMisdirectedRequest},
		{name: "public address", public: []string{"192.0.2.7:8025"}, host: "192.0.2.7:8025", want: http.StatusOK},
		{name: "public address, another port", public: []string{"192.0.2.7:8025"}, host: "192.0.2.7:9999", want: http.StatusOK},
		{name: "public address without port", public: []string{"192.0.2.7:8025"}, host: "192.0.2.7", want: http.StatusOK},
		{name: "public address, loopback still", public: []string{"192.0.2.7:8025"}, host: "localhost:8025", want: http.StatusOK},
		{name: "public address, another address", public: []string{"192.0.2.7:8025"}, host: "192.0.2.8:8025", want: http.StatusMisdirectedRequest},
		{name: "public address, rebinding name", public: []string{"192.0.2.7:8025"}, host: "evil.example:8025", want: http.StatusMisdirectedRequest},
		{name: "public IPv6 address, other spelling", public: []string{"[2001:db8::7]:8025"}, host: "[2001:db8:0:0::7]:8025", want: http.StatusOK},
		{name: "public name", public: []string{"mailbox.lan:8025"}, host: "MailBox.lan:8025", want: http.StatusOK},
		{name: "public name, rebinding name", public: []string{"mailbox.lan:8025"}, host: "evil.example:8025", want: http.StatusMisdirectedRequest},
		{name: "all interfaces, any address", public: []string{":8025"}, host: "192.0.2.7:8025", want: http.StatusOK},
		{name: "all interfaces, rebinding name", public: []string{":8025"}, host: "evil.example:8025", want: http.StatusMisdirectedRequest},
		{name: "all IPv4 interfaces, an IPv6 address", public: []string{"0.0.0.0:8025"}, host: "[2001:db8::7]:8025", want: http.StatusOK},
		{name: "all IPv6 interfaces, rebinding name", public: []string{"[::]:8025"}, host: "evil.example", want: http.StatusMisdirectedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(mailbox.Handler(box, tt.public...))
			defer srv.Close()
			for _, path := range []string{"/", "/messages/1", "/messages.json", "/nowhere"} {
				req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = tt.host
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := tt.want
				if path == "/nowhere" && want == http.StatusOK {
					want = http.StatusNotFound
				}
				if resp.StatusCode != want {
					t.Errorf("GET %s with Host %q: %d, want %d", path, tt.host, resp.StatusCode, want)
				}
				if shown := strings.Contains(string(body), "424242"); shown != (want == http.StatusOK) {
					t.Errorf("GET %s with Host %q: the code shown %v, want %v; body %.60q…", path, tt.host, shown, want == http.StatusOK, body)
				}
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for _, tt := range []struct {
		host string
		want bool
	}{
		{host: "localhost", want: true},
		{host: "LOCALHOST", want: true},
		{host: "127.0.0.1", want: true},
		{host: "127.255.0.9", want: true},
		{host: "::1", want: true},
		{host: "", want: false},
		{host: "0.0.0.0", want: false},
		{host: "::", want: false},
		{host: "[::1]", want: false},
		{host: "192.0.2.7", want: false},
		{host: "localhost.example", want: false},
		{host: "mailbox.lan", want: false},
	} {
		t.Run(tt.host, func(t *testing.T) {
			if got := mailbox.Loopback(tt.host); got != tt.want {
				t.Errorf("Loopback(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}
