// Package conformance is Latch's HTTP API conformance suite, written once
// and run against every host: the native engine, the engine under wazero
// (testharness) and the Worker on workerd. The same cases, the same
// expectations; a host passes by answering over real HTTP.
package conformance

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Target is a running Latch to test.
type Target struct {
	// URL is where the API answers, without a trailing slash.
	URL string
	// ProjectID and Secret are the project credentials.
	ProjectID string
	Secret    string
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
	// Advance moves the host's clock forward. Nil for hosts on real time;
	// the cases that need time to pass then report themselves skipped.
	Advance func(time.Duration)
	// RotateKeys makes a new signing key sign from now on and retires the
	// keys that signed until now (keys.Rotate), as an operator rotating
	// keys does. Nil for hosts that cannot; the rotation case then reports
	// itself skipped.
	RotateKeys func(t *testing.T)
	// ReadMail returns the next message the host delivered to the address
	// to — through its real transport, received by a real server — after
	// those already returned, failing t when none arrives in time. Nil for
	// hosts without mail; the email cases then report themselves skipped.
	ReadMail func(t *testing.T, to string) Mail
	// RedirectURL is on the host's allow-list of redirect URLs (and is
	// its default); required with ReadMail and OAuth.
	RedirectURL string
	// OAuth are the identity providers the host was configured with
	// (StartProviders, Providers.Document), and PublicToken the project's
	// public token, which start URLs carry. Without them the social login
	// cases report themselves skipped.
	OAuth       *Providers
	PublicToken string
	// WebAuthn says the host allows WebAuthnOrigin for passkey ceremonies
	// (and no other origin under its domain). Without it the WebAuthn cases
	// report themselves skipped.
	WebAuthn bool
}

// WebAuthnOrigin is the origin the WebAuthn cases' browser runs on; its
// relying party ID is "localhost".
const WebAuthnOrigin = "http://localhost:3000"

// Mail is a message as a host delivered it.
type Mail struct {
	Subject string
	Text    string
	HTML    string
}

type testCase struct {
	name string
	run  func(t *testing.T, c *client)
}

// Run runs every case against tg, each as a subtest. Cases create their own
// users, so they do not depend on each other or on an empty database.
func Run(t *testing.T, tg Target) {
	t.Helper()
	var all []testCase
	for _, group := range [][]testCase{
		protocolCases, userCases, magicLinkCases, sessionCases,
		passwordCases, stepUpCases, claimCases, lifecycleCases, securityCases, keyCases, emailCases, accountCases, totpCases, feedCases,
		credentialCases, credentialMailCases, userBoundCases, oauthCases, oauthRefusalCases, m2mCases, webauthnCases,
	} {
		all = append(all, group...)
	}
	if os.Getenv(SelfTestEnv) == "1" {
		all = append(all, brokenCase)
	}
	if tg.OAuth != nil {
		tg.OAuth.allowCallback(tg.URL + "/v1/oauth/callback")
	}
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newClient(t, tg))
		})
	}
}

// SelfTestEnv, set to "1", adds a case whose expectation is deliberately
// wrong, so that a run can show the suite fails on a host that does not
// behave as expected (see selftest_test.go).
const SelfTestEnv = "LATCH_CONFORMANCE_SELFTEST"

// CheckSelfTest runs the TestConformance of the Go package in dir with the
// broken case added (SelfTestEnv) and fails t unless that run fails, and
// fails on the broken case: it shows that the host's suite can tell a host
// that misbehaves from one that does not. A run already inside a self-test
// is skipped.
func CheckSelfTest(t *testing.T, dir string) {
	t.Helper()
	if os.Getenv(SelfTestEnv) != "" {
		t.Skip("already inside a self-test run")
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestConformance$/^selftest/", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), SelfTestEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the broken expectation passed in %s:\n%s", dir, out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestConformance/selftest/broken_expectation") {
		t.Fatalf("%s failed, but not on the broken expectation:\n%s", dir, out)
	}
}

// brokenCase expects a wrong secret to be accepted: every correct host fails it.
var brokenCase = testCase{name: "selftest/broken expectation", run: func(t *testing.T, c *client) {
	c.tg.Secret += "-wrong"
	c.ok(c.post("/v1/users", obj{"email": uniqueEmail("selftest")}))
}}
