package conformance

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
)

// What a half-finished login grants, and what survives a change of
// credentials: intermediate sessions, credential versions, the first
// proof of an email, PKCE on mailed links.

// postRaw posts body and returns the status and decoded answer. Unlike
// c.post it may run outside the test goroutine: it reports failures with
// Errorf (status 0).
func (c *client) postRaw(path string, body obj) (int, obj) {
	enc, err := json.Marshal(body)
	if err != nil {
		c.t.Errorf("marshal: %v", err)
		return 0, nil
	}
	req, err := http.NewRequest(http.MethodPost, c.tg.URL+path, bytes.NewReader(enc))
	if err != nil {
		c.t.Errorf("request: %v", err)
		return 0, nil
	}
	req.SetBasicAuth(c.tg.ProjectID, c.tg.Secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Errorf("POST %s: %v", path, err)
		return 0, nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out obj
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// totpUser creates a user with a password and a verified authenticator
// app, its email proven with the password kept; it returns the app's
// secret and recovery codes. The app is verified with the code of the
// step before the host's now, so the current step's code is still
// unused.
func (c *client) totpUser(tag string) (userID, email, pw, secret string, codes []string) {
	c.t.Helper()
	userID, email, pw = c.verifiedPasswordUser(tag)
	_, secret, codes = c.enrolTOTP(userID, email)
	c.ok(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(c.t, secret, c.hostNow()-30)}))
	return userID, email, pw, secret, codes
}

// refusedAsSession checks that nothing accepts token as a session.
func (c *client) refusedAsSession(token string) {
	c.t.Helper()
	r := c.post("/v1/sessions/authenticate", obj{"session_token": token})
	if r.status == http.StatusOK {
		c.t.Fatalf("sessions/authenticate accepted %q as a session: %v", token, r.body)
	}
	if r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
		c.t.Errorf("sessions/authenticate of a non-session: %d %v", r.status, r.body["error_type"])
	}
}

// pkcePair returns a fresh code_verifier and its S256 code_challenge.
func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// liveTokens returns how many of tokens sessions/authenticate accepts.
func (c *client) liveTokens(tokens []string) int {
	c.t.Helper()
	n := 0
	for _, tok := range tokens {
		if c.post("/v1/sessions/authenticate", obj{"session_token": tok}).status == http.StatusOK {
			n++
		}
	}
	return n
}

// loginsDuring runs password logins of email with pw, a few at once, from
// before reset starts until after it returned, and returns the session
// tokens of those that succeeded and the reset's answer.
func (c *client) loginsDuring(email, pw string, reset func() response) ([]string, response) {
	c.t.Helper()
	const workers = 4
	var (
		mu     sync.Mutex
		tokens []string
		wg     sync.WaitGroup
		done   atomic.Bool
		first  = make(chan struct{})
		once   sync.Once
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for after := 0; after < 2; {
				if done.Load() {
					after++
				}
				status, body := c.postRaw("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60})
				if status == http.StatusOK {
					if tok, _ := body["session_token"].(string); tok != "" {
						mu.Lock()
						tokens = append(tokens, tok)
						mu.Unlock()
					}
				}
				once.Do(func() { close(first) })
				if status == 0 {
					return
				}
			}
		}()
	}
	<-first // logins are under way
	// The logins stop and are waited for however reset returns: a reset
	// that stops the test (Fatalf) must not leave them running past its end.
	defer wg.Wait()
	defer done.Store(true)
	r := reset()
	done.Store(true)
	wg.Wait()
	return tokens, r
}

var credentialCases = []testCase{
	{name: "credentials/require_mfa holds the login in an intermediate session", run: func(t *testing.T, c *client) {
		userID, email, pw, secret, codes := c.totpUser("mfa")
		first := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 90, "require_mfa": true,
			"session_custom_claims": obj{"tier": "gold"}}))
		im, _ := first["intermediate_session_token"].(string)
		if im == "" || first["session"] != nil || first["session_token"] != "" || first["session_jwt"] != "" || first["user_id"] != userID {
			t.Fatalf("first factor of a TOTP user with require_mfa: %v", first)
		}
		// Nothing but the second factor takes it.
		c.refusedAsSession(im)
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": im}), http.StatusBadRequest, "invalid_session_jwt")
		c.fails(c.post("/v1/totps/authenticate", obj{"intermediate_session_token": im, "totp_code": "000000", "session_token": strings.Repeat("A", 44)}),
			http.StatusBadRequest, "too_many_session_arguments")
		other, _ := c.newUser("mfaother")
		c.fails(c.post("/v1/totps/authenticate", obj{"intermediate_session_token": im, "user_id": other, "totp_code": "000000"}),
			http.StatusBadRequest, "session_user_mismatch")
		now := c.hostNow()
		wrong := apitest.TOTP(t, secret, now+3600)
		c.fails(c.post("/v1/totps/authenticate", obj{"intermediate_session_token": im, "totp_code": wrong}), http.StatusUnauthorized, "unable_to_auth_totp_code")
		// A wrong code leaves it usable; the right one finishes the login.
		done := c.ok(c.post("/v1/totps/authenticate", obj{"intermediate_session_token": im, "totp_code": apitest.TOTP(t, secret, now)}))
		s := done["session"].(obj)
		if types := factorTypes(s); len(types) != 2 || !types["password"] || !types["totp"] || s["user_id"] != userID {
			t.Fatalf("session after the second factor: %v", s)
		}
		if field(s, "custom_claims", "tier") != "gold" {
			t.Errorf("claims given with the first factor lost: %v", s["custom_claims"])
		}
		if exp := parseTime(t, s["expires_at"]).Sub(parseTime(t, s["started_at"])); exp != 90*time.Minute {
			t.Errorf("session lasts %v, want the 90 minutes the first factor asked for", exp)
		}
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, done, "session_token")}))
		c.verifyJWT(str(t, done, "session_jwt"))
		// Once.
		c.fails(c.post("/v1/totps/recover", obj{"intermediate_session_token": im, "recovery_code": codes[0]}), http.StatusNotFound, "intermediate_session_not_found")

		// A recovery code finishes one too; sessions/revoke ends one.
		second := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 30, "require_mfa": true}))
		rec := c.ok(c.post("/v1/totps/recover", obj{"intermediate_session_token": str(t, second, "intermediate_session_token"), "recovery_code": codes[1]}))
		if types := factorTypes(rec["session"].(obj)); !types["password"] || !types["recovery_codes"] {
			t.Errorf("factors after recovery: %v", rec["session"])
		}
		third := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 30, "require_mfa": true}))
		cancelled := str(t, third, "intermediate_session_token")
		c.ok(c.post("/v1/sessions/revoke", obj{"intermediate_session_token": cancelled}))
		c.ok(c.post("/v1/sessions/revoke", obj{"intermediate_session_token": cancelled}))
		c.fails(c.post("/v1/totps/recover", obj{"intermediate_session_token": cancelled, "recovery_code": codes[2]}), http.StatusNotFound, "intermediate_session_not_found")
		c.fails(c.post("/v1/sessions/revoke", obj{"intermediate_session_token": strings.Repeat("B", 43)}), http.StatusNotFound, "intermediate_session_not_found")

		// Without an authenticator app require_mfa is an ordinary login.
		_, plainEmail, plainPW := c.verifiedPasswordUser("nomfa")
		plain := c.ok(c.post("/v1/passwords/authenticate", obj{"email": plainEmail, "password": plainPW, "session_duration_minutes": 30, "require_mfa": true}))
		if plain["intermediate_session_token"] != "" || plain["session"] == nil {
			t.Errorf("require_mfa without an app: %v", plain)
		}
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, plain, "session_token")}))
		// And without require_mfa a TOTP user's login is Stytch's: a session.
		if _, has := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}))["intermediate_session_token"]; has {
			t.Errorf("intermediate_session_token answered without require_mfa")
		}
	}},
	{name: "credentials/require_mfa holds a reset by the existing password too", run: func(t *testing.T, c *client) {
		userID, email, pw, secret, _ := c.totpUser("mfa-existing")
		newPW := strongPassword()
		held := c.ok(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": newPW,
			"session_duration_minutes": 30, "require_mfa": true}))
		im, _ := held["intermediate_session_token"].(string)
		if im == "" || held["session"] != nil || held["session_token"] != "" || held["session_jwt"] != "" {
			t.Fatalf("a reset by the existing password with require_mfa: %v", held)
		}
		done := c.ok(c.post("/v1/totps/authenticate", obj{"intermediate_session_token": im, "totp_code": apitest.TOTP(t, secret, c.hostNow())}))
		if types := factorTypes(done["session"].(obj)); !types["password"] || !types["totp"] || done["user_id"] != userID {
			t.Errorf("session after the second factor: %v", done["session"])
		}
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": newPW}))
	}},
	{name: "credentials/an intermediate session ends with a password change", run: func(t *testing.T, c *client) {
		_, email, pw, _, codes := c.totpUser("mfareset")
		first := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 30, "require_mfa": true}))
		c.ok(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": strongPassword()}))
		c.fails(c.post("/v1/totps/recover", obj{"intermediate_session_token": str(t, first, "intermediate_session_token"), "recovery_code": codes[0]}),
			http.StatusNotFound, "intermediate_session_not_found")
	}},
	{name: "credentials/logins in flight do not outlive a password reset", run: func(t *testing.T, c *client) {
		for _, tc := range []struct {
			name  string
			reset func(email, pw string) response
		}{
			{name: "existing_password/reset", reset: func(email, pw string) response {
				return c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": strongPassword(), "session_duration_minutes": 30})
			}},
			{name: "session/reset", reset: func(email, pw string) response {
				s := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 30}))
				return c.post("/v1/passwords/session/reset", obj{"session_token": str(t, s, "session_token"), "password": strongPassword()})
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				_, email, pw := c.verifiedPasswordUser("inflight")
				var kept string
				tokens, r := c.loginsDuring(email, pw, func() response { return tc.reset(email, pw) })
				body := c.ok(r)
				if tok, _ := body["session_token"].(string); tok != "" {
					kept = tok
					c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": kept}))
				}
				var old []string
				for _, tok := range tokens {
					if tok != kept {
						old = append(old, tok)
					}
				}
				if n := c.liveTokens(old); n != 0 {
					t.Fatalf("%d of %d sessions started with the old password are live after the reset", n, len(old))
				}
				// Refused as wrong, or as locked: the logins after the
				// reset count as failed attempts.
				if r := c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}); r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
					t.Errorf("the old password after the reset: %d %v", r.status, r.body)
				}
			})
		}
	}},
	{name: "credentials/the first proof of an email ends the app and passkeys set before it", run: func(t *testing.T, c *client) {
		// Someone who does not own the address signs up with it, enrols
		// an authenticator app and, where the host has passkeys, one.
		email := uniqueEmail("prehijack-app")
		squat := c.ok(c.post("/v1/passwords", obj{"email": email, "password": strongPassword(), "session_duration_minutes": 60}))
		userID := str(t, squat, "user_id")
		_, secret, codes := c.enrolTOTP(userID, email)
		c.ok(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(t, secret, c.hostNow())}))
		var key *authenticator
		if c.tg.WebAuthn {
			key = newAuthenticator(t)
			c.registerPasskey(key, userID, nil)
		}
		// The owner proves the address with a fresh email login.
		link := c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "delivery_method": "email"}))
		owner := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": str(t, link, "token"), "session_duration_minutes": 60}))
		stored := c.ok(c.get("/v1/users/" + userID))
		for _, list := range []string{"totps", "webauthn_registrations"} {
			for name, u := range map[string]any{"the proof's answer": owner["user"], "the stored user": stored} {
				if got, _ := u.(obj)[list].([]any); len(got) != 0 {
					t.Errorf("after the first proof %s lists %s %v, want none", name, list, got)
				}
			}
		}
		if r := c.post("/v1/totps/recover", obj{"user_id": userID, "recovery_code": codes[0], "session_duration_minutes": 60}); r.status == http.StatusOK {
			t.Errorf("a recovery code from before the first proof signed in")
		}
		if key != nil {
			if r := c.signIn(key, "", obj{"session_duration_minutes": 60}); r.status == http.StatusOK {
				t.Errorf("a passkey from before the first proof signed in")
			}
		}
		// The owner can enrol an app of their own.
		c.enrolTOTP(userID, email)
	}},
	{name: "credentials/the first proof of an email ends a password set before it", run: func(t *testing.T, c *client) {
		// Someone who does not own the address signs up with it.
		email, pw := uniqueEmail("prehijack"), strongPassword()
		squat := c.ok(c.post("/v1/passwords", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		userID := str(t, squat, "user_id")
		// The owner proves the address with a fresh email login.
		link := c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "delivery_method": "email"}))
		owner := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": str(t, link, "token"), "session_duration_minutes": 60}))
		if field(owner, "user", "password") != nil || field(owner, "user", "emails").([]any)[0].(obj)["verified"] != true {
			t.Fatalf("after the first proof: %v", owner["user"])
		}
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, squat, "session_token")}), http.StatusNotFound, "session_not_found")
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": str(t, squat, "session_jwt")}), http.StatusNotFound, "session_not_found")
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}), http.StatusUnauthorized, "unauthorized_credentials")
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, owner, "session_token")}))
		if list := c.ok(c.get("/v1/sessions?user_id=" + userID))["sessions"].([]any); len(list) != 1 {
			t.Errorf("%d live sessions, want the owner's one", len(list))
		}
		// A later proof changes nothing.
		again := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": str(t, c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "delivery_method": "email"})), "token"),
			"session_duration_minutes": 60}))
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, owner, "session_token")}))
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, again, "session_token")}))
	}},
}

// credentialMailCases need mail: reset links and PKCE-bound links.
var credentialMailCases = withMail([]testCase{
	{name: "credentials/a password change spends every reset link", run: func(t *testing.T, c *client) {
		_, email, pw := c.verifiedPasswordUser("spend")
		c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": email}))
		early := c.mailedToken(c.mail(email), "reset_password")
		c.ok(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": strongPassword()}))
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": early, "password": strongPassword()}), http.StatusUnauthorized, "unable_to_reset_password")
		if c.tg.Advance == nil {
			return // two links need the send gap to pass
		}
		c.advance(21 * time.Second)
		c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": email}))
		older := c.mailedToken(c.mail(email), "reset_password")
		c.advance(21 * time.Second)
		c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": email}))
		newer := c.mailedToken(c.mail(email), "reset_password")
		c.ok(c.post("/v1/passwords/email/reset", obj{"token": newer, "password": strongPassword()}))
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": older, "password": strongPassword()}), http.StatusUnauthorized, "unable_to_reset_password")
	}},
	{name: "credentials/logins in flight do not outlive a reset by email", run: func(t *testing.T, c *client) {
		_, email, pw := c.verifiedPasswordUser("inflightmail")
		c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": email}))
		token := c.mailedToken(c.mail(email), "reset_password")
		tokens, r := c.loginsDuring(email, pw, func() response {
			return c.post("/v1/passwords/email/reset", obj{"token": token, "password": strongPassword()})
		})
		c.ok(r)
		if n := c.liveTokens(tokens); n != 0 {
			t.Fatalf("%d of %d sessions started with the old password are live after the reset", n, len(tokens))
		}
	}},
	{name: "credentials/a reset link sent with a PKCE challenge needs its verifier", run: func(t *testing.T, c *client) {
		_, email, _ := c.verifiedPasswordUser("resetpkce")
		verifier, challenge := pkcePair()
		c.fails(c.post("/v1/passwords/email/reset/start", obj{"email": email, "code_challenge": "short"}), http.StatusBadRequest, "bad_request")
		c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": email, "code_challenge": challenge}))
		token := c.mailedToken(c.mail(email), "reset_password")
		other, _ := pkcePair()
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": token, "password": strongPassword()}), http.StatusBadRequest, "pkce_mismatch")
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": token, "password": strongPassword(), "code_verifier": other}), http.StatusBadRequest, "pkce_mismatch")
		// The refusals spent nothing.
		c.ok(c.post("/v1/passwords/email/reset", obj{"token": token, "password": strongPassword(), "code_verifier": verifier, "session_duration_minutes": 30}))
	}},
	{name: "credentials/a link sent with a PKCE challenge needs its verifier", run: func(t *testing.T, c *client) {
		userID, email := c.newUser("pkce")
		verifier, challenge := pkcePair()
		c.fails(c.post("/v1/magic_links/email/send", obj{"email": email, "code_challenge": "short"}), http.StatusBadRequest, "bad_request")
		c.ok(c.post("/v1/magic_links/email/send", obj{"email": email, "code_challenge": challenge}))
		token := c.mailedToken(c.mail(email), "magic_links")
		other, _ := pkcePair()
		for _, tc := range []struct {
			name string
			body obj
		}{
			{name: "no verifier", body: obj{"token": token, "session_duration_minutes": 30}},
			{name: "another verifier", body: obj{"token": token, "code_verifier": other, "session_duration_minutes": 30}},
			{name: "the challenge itself", body: obj{"token": token, "code_verifier": challenge, "session_duration_minutes": 30}},
			{name: "a verifier too short", body: obj{"token": token, "code_verifier": verifier[:42], "session_duration_minutes": 30}},
			{name: "a verifier too long", body: obj{"token": token, "code_verifier": verifier + strings.Repeat("a", 129-len(verifier)), "session_duration_minutes": 30}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				newClient(t, c.tg).fails(c.post("/v1/magic_links/authenticate", tc.body), http.StatusBadRequest, "pkce_mismatch")
			})
		}
		// The refusals spent nothing.
		got := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": token, "code_verifier": verifier, "session_duration_minutes": 30}))
		if got["user_id"] != userID {
			t.Fatalf("authenticated %v", got["user_id"])
		}
		// A link sent without a challenge takes no verifier.
		c.maybeAdvance(21 * time.Second)
		if r := c.post("/v1/magic_links/email/send", obj{"email": email}); r.status == http.StatusTooManyRequests {
			t.Skip("host runs on real time; the rest needs the send gap to pass")
		} else {
			c.ok(r)
		}
		plain := c.mailedToken(c.mail(email), "magic_links")
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": plain, "code_verifier": verifier}), http.StatusBadRequest, "pkce_mismatch")
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": plain}))
	}},
	{name: "credentials/login_or_create mails a user it creates the signup link", run: func(t *testing.T, c *client) {
		email := uniqueEmail("signup")
		got := c.ok(c.post("/v1/magic_links/email/login_or_create", obj{"email": email, "login_expiration_minutes": 45, "signup_expiration_minutes": 15}))
		if got["user_created"] != true {
			t.Fatalf("login_or_create: %v", got)
		}
		m := c.mail(email)
		if !strings.Contains(m.Subject, "sign") || strings.Contains(m.Text, "45 minutes") {
			t.Errorf("a new user got %q: %q", m.Subject, m.Text)
		}
		checkMailNames(t, m, "15")
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.mailedToken(m, "magic_links")}))
	}},
	{name: "credentials/mail counts per inbox, known or not", run: func(t *testing.T, c *client) {
		local := strings.TrimSuffix(uniqueEmail("inbox"), "@example.com")
		c.ok(c.post("/v1/otps/email/login_or_create", obj{"email": local + "+1@example.com"}))
		for _, addr := range []string{local + "+2@example.com", local + "@example.com", strings.ToUpper(local) + "+3@EXAMPLE.com"} {
			c.fails(c.post("/v1/magic_links/email/login_or_create", obj{"email": addr}), http.StatusTooManyRequests, "too_many_requests")
		}
		// The refused addresses got no user either.
		c.ok(c.post("/v1/users", obj{"email": local + "+2@example.com"}))
		// An address without an account counts as one with an account does.
		nobody := uniqueEmail("nobody")
		c.fails(c.post("/v1/passwords/email/reset/start", obj{"email": nobody}), http.StatusNotFound, "email_not_found")
		c.fails(c.post("/v1/passwords/email/reset/start", obj{"email": nobody}), http.StatusTooManyRequests, "too_many_requests")
		_, known := c.newUser("known")
		c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": known}))
		c.fails(c.post("/v1/passwords/email/reset/start", obj{"email": known}), http.StatusTooManyRequests, "too_many_requests")
		c.mail(local + "+1@example.com")
		c.mail(known)
	}},
})

// userBoundCases: a new user is bounded as a changed one is.
var userBoundCases = []testCase{
	{name: "users/create is bounded as update is", run: func(t *testing.T, c *client) {
		many := obj{}
		for i := range 21 {
			many[fmt.Sprintf("k%d", i)] = i
		}
		for _, path := range []string{"/v1/users", "/v1/passwords"} {
			for _, tc := range []struct {
				name      string
				body      func(email string) any
				errorType string
			}{
				{name: "too many keys", body: func(e string) any { return obj{"email": e, "trusted_metadata": many} }, errorType: "invalid_metadata"},
				{name: "too large", body: func(e string) any { return obj{"email": e, "untrusted_metadata": obj{"x": strings.Repeat("x", 4100)}} }, errorType: "metadata_too_large"},
				{name: "a key twice", body: func(e string) any {
					return fmt.Sprintf(`{"email":%q,"password":%q,"trusted_metadata":{"role":"user","role":"admin"}}`, e, strongPassword())
				}, errorType: "invalid_metadata"},
				{name: "CR LF in a name", body: func(e string) any { return obj{"email": e, "name": obj{"first_name": "Ada\r\nBcc: x"}} }, errorType: "bad_request"},
				{name: "NUL in a name", body: func(e string) any { return obj{"email": e, "name": obj{"middle_name": "a\x00b"}} }, errorType: "bad_request"},
				{name: "a long name", body: func(e string) any { return obj{"email": e, "name": obj{"last_name": strings.Repeat("L", 100<<10)}} }, errorType: "bad_request"},
			} {
				t.Run(path+"/"+tc.name, func(t *testing.T) {
					c := newClient(t, c.tg)
					email := uniqueEmail("bounded")
					body := tc.body(email)
					if m, ok := body.(obj); ok && path == "/v1/passwords" {
						m["password"] = strongPassword()
					}
					c.fails(c.post(path, body), http.StatusBadRequest, tc.errorType)
					// Nothing was stored: the address is still free.
					c.ok(c.post("/v1/users", obj{"email": email}))
				})
			}
		}
	}},
}
