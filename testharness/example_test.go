package testharness_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/mail"
)

// post sends an authenticated JSON request and decodes the answer.
func post(s *testharness.Server, path, body string) (int, map[string]any) {
	req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.SetBasicAuth(s.ProjectID, s.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func Example() {
	s, err := testharness.New(testharness.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	_, user := post(s, "/v1/users", `{"email":"ada@example.com"}`)
	_, link := post(s, "/v1/magic_links", fmt.Sprintf(`{"user_id":%q}`, user["user_id"]))
	status, auth := post(s, "/v1/magic_links/authenticate",
		fmt.Sprintf(`{"token":%q,"session_duration_minutes":60}`, link["token"]))

	fmt.Println(status, auth["user_id"] == user["user_id"])
	fmt.Println(len(auth["session_token"].(string)), strings.Count(auth["session_jwt"].(string), "."))
	// Output:
	// 200 true
	// 44 2
}

// Advance moves the clock the engine sees, so expiry can be tested
// without waiting.
func ExampleServer_Advance() {
	s, err := testharness.New(testharness.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	_, user := post(s, "/v1/users", `{"email":"grace@example.com"}`)
	_, link := post(s, "/v1/magic_links", fmt.Sprintf(`{"user_id":%q}`, user["user_id"]))
	_, auth := post(s, "/v1/magic_links/authenticate",
		fmt.Sprintf(`{"token":%q,"session_duration_minutes":5}`, link["token"]))

	s.Advance(6 * time.Minute)
	status, out := post(s, "/v1/sessions/authenticate", fmt.Sprintf(`{"session_token":%q}`, auth["session_token"]))
	fmt.Println(status, out["error_type"])
	// Output: 404 session_not_found
}

// RotateKey makes a new key sign while the old one stays in the JWKS.
func ExampleServer_RotateKey() {
	s, err := testharness.New(testharness.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	old := s.Keys()[0].KID
	k, err := s.RotateKey()
	if err != nil {
		panic(err)
	}
	resp, err := http.Get(s.JWKSURL())
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	json.NewDecoder(resp.Body).Decode(&set)

	fmt.Println(len(set.Keys), set.Keys[0].Kid == k.KID, set.Keys[1].Kid == old)
	// Output: 2 true true
}

// The engine's mail leaves through the host's transport — here real SMTP
// to a mailbox on loopback. The guest builds the message and never sees
// the transport.
func ExampleConfig_mail() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	box := mailbox.New(0)
	smtp := mailbox.ServeSMTP(l, box, mailbox.SMTPConfig{})
	defer smtp.Close()
	s, err := testharness.New(testharness.Config{
		Mailer:       &mail.SMTP{Addr: smtp.Addr},
		MailFrom:     "Acme <login@acme.test>",
		ProjectName:  "Acme",
		RedirectURLs: []string{"http://localhost:3000/authenticate"},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	status, _ := post(s, "/v1/otps/email/login_or_create", `{"email":"ada@example.com"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := box.Wait(ctx, "ada@example.com", 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(status, m.Via, m.Kind, m.From)
	fmt.Println(strings.TrimRight(m.Subject, "0123456789"))
	// Output:
	// 200 smtp otp login@acme.test
	// Your Acme code:
}
