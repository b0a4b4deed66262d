//go:build !js

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/mailbox"
)

// TestSDKInBrowser runs Stytch's published frontend SDK,
// @stytch/vanilla-js as package.json pins it and unchanged, in headless
// Chromium against the /sdk/v1 surface of Latch on each host: the Worker
// on workerd (wrangler dev), its mail sent through the send_email binding
// as the other workerd tests read it (mailFiles), and latch-local, the
// command built and run as a developer runs it, its mail delivered over
// SMTP to its dev mailbox and read from the mailbox's page
// (/messages.json). The app's page is served from an origin of its own
// (the SDK's authorized origin) and loads the SDK from there; the SDK is
// pointed at Latch with its endpoints option. On each host:
//
//   - by emailed code: a session, its tokens in the SDK's cookies and
//     accepted by the API; the user read and updated through the SDK and
//     the update seen by the API; the session checked, then revoked: the
//     cookies gone and the API refusing the token;
//   - by magic link, opened on the app's page it leads to;
//   - by password: created, used, reset through the mailed link; the old
//     one is then refused and the new one accepted;
//   - from an origin that is not the app's, the SDK is refused and nothing
//     is mailed;
//   - the SDK's prebuilt login UI, by emailed code typed into it.
//
// The hosts run side by side, each with a Chromium of its own. All of a
// host's calls come from one client (127.0.0.1, which wrangler dev puts in
// CF-Connecting-IP): 4 calls that mail and 9 that check a secret, within
// the surface's per-client limits (10 mails in 10 minutes, 30 checks a
// minute) and, on workerd, the LOGIN_LIMIT binding's 30 a minute.
//
// Screenshots of the UI go to LATCH_ARTIFACTS (default .artifacts in the
// repository), under browser-sdk.
func TestSDKInBrowser(t *testing.T) {
	t.Parallel()
	js, chromium := sdkRequire(t)
	shots := artifactDir(t, "browser-sdk")
	for _, host := range []struct {
		name  string
		start func(t *testing.T, page string) sdkHost
	}{
		{name: "workerd", start: sdkOnWorkerd},
		{name: "latch-local", start: sdkOnLatchLocal},
	} {
		t.Run(host.name, func(t *testing.T) {
			t.Parallel()
			pageLn, page := sdkListen(t)
			otherLn, other := sdkListen(t)
			latch := host.start(t, page)
			// Latch serves the SDK's client-side services iframe too, so
			// that the page loads nothing from Stytch.
			settings := sdkSettings{PublicToken: latch.publicToken, API: latch.url, Frame: latch.url + sdkFramePath}
			sdkServePages(t, pageLn, js, settings)
			sdkServePages(t, otherLn, js, settings)
			b := &sdkRun{
				latch: latch, page: page, other: other, shots: shots,
				api:     &apitest.Client{URL: latch.url, ProjectID: latch.projectID, Secret: latch.secret},
				browser: sdkBrowser(t, chromium),
			}
			b.runFlows(t)
		})
	}
}

// sdkHost is a Latch serving the SDK surface to the app's page.
type sdkHost struct {
	url, publicToken, projectID, secret string
	mail                                sdkInbox // the mail it sends
}

// sdkInbox is where the test reads the mail a host sent: a mailbox of the
// test's own (sdkBox), or latch-local's dev mailbox page (sdkMailPage).
type sdkInbox interface {
	// Wait returns the first message to the address to (case-insensitive),
	// waiting for it until ctx is done.
	Wait(ctx context.Context, to string) (*mailbox.Message, error)
	// Messages returns the messages received so far, oldest first.
	Messages(ctx context.Context) ([]*mailbox.Message, error)
}

// sdkBox is an sdkInbox over a mailbox the test fills itself.
type sdkBox struct{ box *mailbox.Mailbox }

func (b sdkBox) Wait(ctx context.Context, to string) (*mailbox.Message, error) {
	return b.box.Wait(ctx, to, 0)
}

func (b sdkBox) Messages(context.Context) ([]*mailbox.Message, error) { return b.box.Messages(), nil }

// sdkMailFrom is the sender both hosts are given.
const sdkMailFrom = "Acme <login@acme.test>"

// sdkRedirectURLs are the pages of the app at page that mailed links may
// lead to: the magic link's, the password reset's and the login page.
func sdkRedirectURLs(page string) []string {
	return []string{page + "/authenticate", page + "/reset", page + "/login"}
}

// sdkOnWorkerd starts the Worker on workerd for the page's origin, with
// the Rate Limiting binding wrangler.toml gives it. Wrangler's output goes
// to the test's log (shown with -v or on failure), as latch-local's does.
func sdkOnWorkerd(t *testing.T, page string) sdkHost {
	box := mailbox.New(0)
	w := Start(t, Options{
		SDKOrigins: []string{page},
		LoginLimit: 30,
		MoreVars: map[string]string{
			"LATCH_MAIL":          "send_email",
			"LATCH_MAIL_FROM":     sdkMailFrom,
			"LATCH_PROJECT_NAME":  "Acme",
			"LATCH_REDIRECT_URLS": strings.Join(sdkRedirectURLs(page), ","),
		},
		Log: newMailFiles(t, box, testLog{t}),
	})
	return sdkHost{url: w.URL, publicToken: w.PublicToken, projectID: w.ProjectID, secret: w.Secret, mail: sdkBox{box}}
}

// sdkRun is what a host's flows share.
type sdkRun struct {
	latch       sdkHost
	api         *apitest.Client
	browser     context.Context
	page, other string // the app's origin, and one Latch does not serve
	shots       string
}

// runFlows runs the flows side by side, each in a tab of its own.
func (b *sdkRun) runFlows(t *testing.T) {
	for _, flow := range []struct {
		name string
		run  func(*testing.T)
	}{
		{name: "otp user session", run: b.otpFlow},
		{name: "magic link", run: b.linkFlow},
		{name: "passwords", run: b.passwordFlow},
		{name: "other origin", run: b.otherOriginFlow},
		{name: "prebuilt ui", run: b.uiFlow},
	} {
		t.Run(flow.name, func(t *testing.T) {
			t.Parallel()
			flow.run(t)
		})
	}
}

// sdkSignedIn is what the page reports after an authenticate call: the
// SDK's answer, the cookies and the session the SDK holds.
type sdkSignedIn struct {
	Auth    sdkAuth           `json:"auth"`
	Cookies map[string]string `json:"cookies"`
	Held    *string           `json:"held"` // the session id of session.getSync()
}

// sdkAuth is the part of an authenticate answer the SDK uses.
type sdkAuth struct {
	UserID       string `json:"user_id"`
	SessionToken string `json:"session_token"`
	SessionJWT   string `json:"session_jwt"`
	Session      struct {
		SessionID string      `json:"session_id"`
		UserID    string      `json:"user_id"`
		ExpiresAt string      `json:"expires_at"`
		Factors   []sdkFactor `json:"authentication_factors"`
	} `json:"session"`
	User sdkUser `json:"user"`
}

type sdkFactor struct {
	Type string `json:"type"`
}

type sdkUser struct {
	UserID string     `json:"user_id"`
	Emails []sdkEmail `json:"emails"`
	Name   struct {
		FirstName string `json:"first_name"`
	} `json:"name"`
	UntrustedMetadata map[string]any `json:"untrusted_metadata"`
}

type sdkEmail struct {
	Email string `json:"email"`
}

// sdkReport wraps the JS of an authenticate call so that the page reports
// an sdkSignedIn.
func sdkReport(call string) string {
	return `async (...args) => {
  const auth = await (` + call + `)(...args);
  return {auth, cookies: cookies(), held: sdk().session.getSync()?.session_id ?? null};
}`
}

// signedIn checks that the SDK signed email in with a factor of type
// factor, for 60 minutes, that its cookies hold the session's tokens and
// that the API accepts both.
func (b *sdkRun) signedIn(t *testing.T, got sdkSignedIn, email, factor string) {
	t.Helper()
	a := got.Auth
	if a.SessionToken == "" || a.SessionJWT == "" || a.Session.SessionID == "" {
		t.Fatalf("no session: token %q, JWT %q, session %q", a.SessionToken, a.SessionJWT, a.Session.SessionID)
	}
	if a.User.UserID == "" || a.User.UserID != a.Session.UserID || a.UserID != a.User.UserID {
		t.Errorf("user_id %q, user.user_id %q, session.user_id %q: want one user", a.UserID, a.User.UserID, a.Session.UserID)
	}
	if !slices.Contains(a.User.Emails, sdkEmail{Email: email}) {
		t.Errorf("user's emails %v, want %s", a.User.Emails, email)
	}
	if !slices.Contains(a.Session.Factors, sdkFactor{Type: factor}) {
		t.Errorf("session's factors %v, want %s", a.Session.Factors, factor)
	}
	exp, err := time.Parse(time.RFC3339, a.Session.ExpiresAt)
	if left := time.Until(exp); err != nil || left < 55*time.Minute || left > 61*time.Minute {
		t.Errorf("session expires_at %q (%v): want 60 minutes from now", a.Session.ExpiresAt, err)
	}
	if got.Cookies["stytch_session"] != a.SessionToken || got.Cookies["stytch_session_jwt"] != a.SessionJWT {
		t.Errorf("cookies %v, want stytch_session and stytch_session_jwt to hold the session's tokens", got.Cookies)
	}
	if got.Held == nil || *got.Held != a.Session.SessionID {
		t.Errorf("session.getSync() holds session %v, want %s", got.Held, a.Session.SessionID)
	}
	for _, field := range []string{"session_token", "session_jwt"} {
		value := a.SessionToken
		if field == "session_jwt" {
			value = a.SessionJWT
		}
		status, res, err := b.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{field: value})
		if err != nil || status != http.StatusOK {
			t.Errorf("the API refuses the SDK's %s: %d %v %v", field, status, res, err)
			continue
		}
		if s, _ := res["session"].(map[string]any); s["session_id"] != a.Session.SessionID {
			t.Errorf("the API's session for the SDK's %s: %v, want %s", field, s["session_id"], a.Session.SessionID)
		}
	}
}

// mail waits for the first mail to to.
func (b *sdkRun) mail(t *testing.T, to string) *mailbox.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	m, err := b.latch.mail.Wait(ctx, to)
	if err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	return m
}

// settle waits until every mail Latch sent before it was called is in the
// box: it has the API mail a code to marker and waits for that mail. Over
// SMTP, as latch-local sends to its dev mailbox, a mail is in the box
// before its call answers; on workerd the send_email simulation reports
// each message to wrangler's log, which the test reads, only as the call
// answers, by a request of its own that the answer does not wait for.
func (b *sdkRun) settle(t *testing.T, marker string) {
	t.Helper()
	status, res, err := b.api.Do(context.Background(), http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": marker})
	if err != nil || status != http.StatusOK {
		t.Fatalf("the API's code to %s: %d %v %v", marker, status, res, err)
	}
	b.mail(t, marker)
}

var sdkCodeInMail = regexp.MustCompile(`\b[0-9]{6}\b`)

// code is the one-time code in the first mail to to.
func (b *sdkRun) code(t *testing.T, to string) string {
	t.Helper()
	m := b.mail(t, to)
	code := sdkCodeInMail.FindString(m.Text)
	if code == "" {
		t.Fatalf("no code in the mail to %s: %q", to, m.Text)
	}
	return code
}

// link is the link to page+path in the first mail to to, checked to
// carry a token of tokenType as Stytch's links do.
func (b *sdkRun) link(t *testing.T, to, path, tokenType string) (link, token string) {
	t.Helper()
	m := b.mail(t, to)
	link = regexp.MustCompile(regexp.QuoteMeta(b.page+path+"?") + `\S+`).FindString(m.Text)
	u, err := url.Parse(link)
	if link == "" || err != nil {
		t.Fatalf("no link to %s%s in the mail to %s: %q", b.page, path, to, m.Text)
	}
	q := u.Query()
	if q.Get("stytch_token_type") != tokenType || q.Get("token") == "" {
		t.Fatalf("link %s: want stytch_token_type=%s and a token", link, tokenType)
	}
	return link, q.Get("token")
}
