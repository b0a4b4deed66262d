//go:build !js

package e2e

import (
	"context"
	"crypto/rand"
	"io"
	"maps"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/keys"
)

// TestConformance runs the shared HTTP conformance suite against the Worker
// on workerd. The clock is real, so cases that need time to pass report
// themselves skipped here; TestRealTimeLifecycle covers them by waiting.
//
// Mail goes through the send_email binding (LATCH_MAIL=send_email), which
// wrangler dev simulates by writing each message it accepts to an .eml
// file and logging the path; the email cases read those files, parsed as
// a mail client would (mailFiles).
func TestConformance(t *testing.T) {
	t.Parallel()
	box := mailbox.New(0)
	var next io.Writer
	if testing.Verbose() || os.Getenv("LATCH_E2E_LOG") == "1" {
		next = testLog{t}
	}
	providers := conformance.StartProviders(t, nil)
	vars := maps.Clone(sendEmailVars)
	// The origin of the WebAuthn cases' browser, and only it.
	vars["LATCH_WEBAUTHN_ORIGINS"] = conformance.WebAuthnOrigin
	w := Start(t, Options{MoreVars: vars, Log: newMailFiles(t, box, next), OAuthProviders: providers.Document()})
	tg := conformanceTarget(w)
	tg.ReadMail = conformance.MailboxReader(box)
	tg.RedirectURL = testRedirectURL
	tg.OAuth, tg.PublicToken = providers, w.PublicToken
	tg.WebAuthn = true
	conformance.Run(t, tg)
}

// testRedirectURL is the mail tests' allow-list of redirect URLs.
const testRedirectURL = "https://app.example.com/authenticate"

// sendEmailVars send mail through the send_email binding.
var sendEmailVars = map[string]string{
	"LATCH_MAIL":          "send_email",
	"LATCH_MAIL_FROM":     "Latch <login@example.com>",
	"LATCH_REDIRECT_URLS": testRedirectURL + ",https://app.example.com/other",
}

// conformanceTarget describes w to the conformance suite. The clock is the
// real one, so Advance stays nil.
func conformanceTarget(w *Worker) conformance.Target {
	return conformance.Target{
		URL:       w.URL,
		ProjectID: w.ProjectID,
		Secret:    w.Secret,
		Client:    &http.Client{Timeout: 30 * time.Second, Transport: Transport()},
		// A rotation restarts the Worker with the rotated key set, as
		// `wrangler secret put LATCH_SIGNING_KEYS` does to a deployment.
		RotateKeys: func(t *testing.T) {
			ks, err := keys.Rotate(w.Keys, rand.Reader, "test", time.Now().Unix(), 0)
			if err == nil {
				err = w.Restart(context.Background(), ks)
			}
			if err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestSendEmailRefused checks that a message the send_email binding
// refuses (here: a recipient outside its allowed_destination_addresses) is
// a delivery failure, 502 email_delivery_failed, while the binding's
// accepted recipient gets the mail.
func TestSendEmailRefused(t *testing.T) {
	t.Parallel()
	box := mailbox.New(0)
	var next io.Writer
	if testing.Verbose() || os.Getenv("LATCH_E2E_LOG") == "1" {
		next = testLog{t}
	}
	const allowed = "allowed@example.com"
	w := Start(t, Options{MoreVars: sendEmailVars, MailTo: []string{allowed}, Log: newMailFiles(t, box, next)})
	a := newAPI(t, w.Target)
	status, out := a.call(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": "other@example.com"}, true)
	if status != http.StatusBadGateway || out["error_type"] != "email_delivery_failed" {
		t.Errorf("to a recipient the binding refuses: %d %v, want 502 email_delivery_failed", status, out)
	}
	sent := a.must(http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": allowed})
	m := conformance.MailboxReader(box)(t, allowed)
	a.must(http.MethodPost, "/v1/otps/authenticate", map[string]any{
		"method_id": sent["email_id"], "code": sixDigits.FindString(m.Text), "session_duration_minutes": 30})
}

// TestConformanceSelfTest runs this package's TestConformance with a
// deliberately wrong expectation added (conformance.CheckSelfTest) and
// checks that it fails on workerd, as the native and wazero self-tests do
// in testharness/conformance.
func TestConformanceSelfTest(t *testing.T) {
	t.Parallel()
	RequireWrangler(t)
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	conformance.CheckSelfTest(t, dir)
}
