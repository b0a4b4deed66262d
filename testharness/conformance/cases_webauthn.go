package conformance

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
)

// The WebAuthn cases run a virtual authenticator (webauthn.go) in a
// browser on WebAuthnOrigin, relying party ID "localhost".

// unknownUserID is well-formed and names no user.
const unknownUserID = "user-test-00000000-0000-4000-8000-000000000000"

var webauthnCases = []testCase{
	{name: "webauthn/a registration begun before a password reset does not finish after it", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, email, pw := c.verifiedPasswordUser("passkey-reset")
		key := newAuthenticator(t)
		begun := c.startRegistration(userID)
		c.ok(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": strongPassword()}))
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": key.create(begun), "session_duration_minutes": 60}),
			http.StatusBadRequest, "webauthn_challenge_not_found")
		// One begun after it finishes.
		c.registerPasskey(key, userID, nil)
	}},
	{name: "webauthn/register a passkey", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkey")
		const ua = "Mozilla/5.0 (conformance) passkey"
		start := c.ok(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain, "authenticator_type": "platform",
			"return_passkey_credential_options": true, "use_base64_url_encoding": true, "user_agent": ua}))
		if start["user_id"] != userID {
			t.Errorf("register/start user_id %v, want %s", start["user_id"], userID)
		}
		options := str(t, start, "public_key_credential_creation_options")
		o := decodeOptions(t, options)
		sel, _ := o["authenticatorSelection"].(obj)
		if field(o, "rp", "id") != webauthnDomain || o["attestation"] != "none" || sel["authenticatorAttachment"] != "platform" ||
			sel["residentKey"] != "required" || sel["requireResidentKey"] != true || sel["userVerification"] != "required" {
			t.Errorf("creation options %s: want rp.id localhost, attestation none, a platform authenticator, a resident key and user verification required", options)
		}
		if handle := string(optionBytes(t, field(o, "user", "id"), true)); handle != userID {
			t.Errorf("user.id is %q, want the user id %s", handle, userID)
		}
		if n := len(optionBytes(t, o["challenge"], true)); n < 16 {
			t.Errorf("challenge of %d bytes, want at least 16", n)
		}
		es256 := false
		for _, p := range o["pubKeyCredParams"].([]any) {
			es256 = es256 || (field(p.(obj), "type") == "public-key" && field(p.(obj), "alg") == float64(-7))
		}
		if !es256 {
			t.Errorf("pubKeyCredParams %v do not offer ES256", o["pubKeyCredParams"])
		}
		if ex, _ := o["excludeCredentials"].([]any); len(ex) != 0 {
			t.Errorf("a user without credentials has excludeCredentials %v", ex)
		}

		a := newAuthenticator(t)
		got := c.ok(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": a.create(options), "session_duration_minutes": 30}))
		regID := str(t, got, "webauthn_registration_id")
		if !strings.HasPrefix(regID, "webauthn-registration-") || got["user_id"] != userID {
			t.Errorf("register: webauthn_registration_id %q, user_id %v", regID, got["user_id"])
		}
		s, _ := got["session"].(obj)
		if s == nil || s["user_id"] != userID {
			t.Fatalf("register with session_duration_minutes: session %v", got["session"])
		}
		if f := webauthnFactor(t, s, regID); len(s["authentication_factors"].([]any)) != 1 || field(f, "webauthn_factor", "user_agent") != ua {
			t.Errorf("session factors %v, want only the webauthn factor with user_agent %q", s["authentication_factors"], ua)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, got, "session_jwt")), s)
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, got, "session_token")}))
		want := obj{"webauthn_registration_id": regID, "domain": webauthnDomain, "verified": true, "authenticator_type": "platform", "user_agent": ua, "name": ""}
		for _, u := range []any{got["user"], c.ok(c.get("/v1/users/" + userID))} {
			if regs := webauthnRegistrations(t, u); len(regs) != 1 || !reflect.DeepEqual(regs[0], want) {
				t.Errorf("webauthn_registrations %v, want [%v]", regs, want)
			}
		}
	}},
	{name: "webauthn/sign in with a discoverable passkey, or for a user", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeysignin")
		a := newAuthenticator(t)
		regID := str(t, c.registerPasskey(a, userID, nil), "webauthn_registration_id")

		// Discoverable: no user, no credentials listed, the user verified;
		// Stytch's standard base64 options.
		start := c.ok(c.post("/v1/webauthn/authenticate/start", obj{"domain": webauthnDomain}))
		options := str(t, start, "public_key_credential_request_options")
		o := decodeOptions(t, options)
		if allow, _ := o["allowCredentials"].([]any); start["user_id"] != "" || o["rpId"] != webauthnDomain || o["userVerification"] != "required" || len(allow) != 0 {
			t.Errorf("discoverable start: user_id %v, options %s: want rpId localhost, userVerification required, no allowCredentials", start["user_id"], options)
		}
		if n := len(optionBytes(t, o["challenge"], false)); n < 16 {
			t.Errorf("challenge of %d bytes, want at least 16", n)
		}
		got := c.ok(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(options), "session_duration_minutes": 30}))
		if got["user_id"] != userID || got["webauthn_registration_id"] != regID || field(got, "user", "user_id") != userID {
			t.Fatalf("discoverable sign-in: user_id %v, webauthn_registration_id %v, want %s, %s", got["user_id"], got["webauthn_registration_id"], userID, regID)
		}
		s := got["session"].(obj)
		webauthnFactor(t, s, regID)
		checkSessionJWT(t, c.verifyJWT(str(t, got, "session_jwt")), s)

		// For a user: the options list the user's credential.
		start = c.ok(c.post("/v1/webauthn/authenticate/start", obj{"domain": webauthnDomain, "user_id": userID, "use_base64_url_encoding": true}))
		options = str(t, start, "public_key_credential_request_options")
		o = decodeOptions(t, options)
		allow, _ := o["allowCredentials"].([]any)
		if start["user_id"] != userID || len(allow) != 1 || field(allow[0].(obj), "id") != a.credentialID() || field(allow[0].(obj), "type") != "public-key" {
			t.Errorf("start for the user: user_id %v, allowCredentials %v, want [{public-key %s}]", start["user_id"], o["allowCredentials"], a.credentialID())
		}
		if o["rpId"] != webauthnDomain || o["userVerification"] != "preferred" {
			t.Errorf("start for the user: options %s: want rpId localhost, userVerification preferred", options)
		}
		optionBytes(t, o["challenge"], true)
		again := c.ok(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(options), "session_duration_minutes": 30}))
		if again["user_id"] != userID || again["webauthn_registration_id"] != regID || field(again, "session", "session_id") == s["session_id"] {
			t.Errorf("sign-in for the user: user_id %v, webauthn_registration_id %v, session %v (first %v)", again["user_id"], again["webauthn_registration_id"], field(again, "session", "session_id"), s["session_id"])
		}
		webauthnFactor(t, again["session"].(obj), regID)

		// A passkey sign-in for a user requires user verification.
		start = c.ok(c.post("/v1/webauthn/authenticate/start", obj{"domain": webauthnDomain, "user_id": userID, "return_passkey_credential_options": true}))
		if uv := decodeOptions(t, str(t, start, "public_key_credential_request_options"))["userVerification"]; uv != "required" {
			t.Errorf("passkey start for the user: userVerification %v, want required", uv)
		}
	}},
	{name: "webauthn/a user with two credentials signs in with either", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeytwo")
		first, second := newAuthenticator(t), newAuthenticator(t)
		firstID := str(t, c.registerPasskey(first, userID, nil), "webauthn_registration_id")
		// The second under a user handle of its own (override_id: a
		// credential carried over from another system).
		options := str(t, c.ok(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain,
			"return_passkey_credential_options": true, "use_base64_url_encoding": true, "override_id": "legacy-7"})),
			"public_key_credential_creation_options")
		if handle := optionBytes(t, field(decodeOptions(t, options), "user", "id"), true); string(handle) != "legacy-7" {
			t.Errorf("override_id: user.id %q, want legacy-7", handle)
		}
		secondID := str(t, c.ok(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": second.create(options)})), "webauthn_registration_id")
		allow, _ := decodeOptions(t, c.startSignIn(userID))["allowCredentials"].([]any)
		if len(allow) != 2 {
			t.Errorf("start for the user: %d credentials allowed, want 2", len(allow))
		}
		for _, tc := range []struct {
			a      *authenticator
			userID string
			regID  string
		}{
			{a: first, userID: userID, regID: firstID},
			{a: second, userID: userID, regID: secondID},
			{a: first, regID: firstID},
			{a: second, regID: secondID},
		} {
			got := c.ok(c.signIn(tc.a, tc.userID, nil))
			if got["user_id"] != userID || got["webauthn_registration_id"] != tc.regID {
				t.Errorf("sign-in (user_id %q): user_id %v, webauthn_registration_id %v, want %s, %s", tc.userID, got["user_id"], got["webauthn_registration_id"], userID, tc.regID)
			}
		}
	}},
	{name: "webauthn/step up a magic link session", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, login := c.login("passkeystep", 60)
		token, sessionID := str(t, login, "session_token"), field(login, "session", "session_id")
		a := newAuthenticator(t)
		// Registering with the session adds the factor to it.
		reg := c.registerPasskey(a, userID, obj{"session_token": token})
		regID := str(t, reg, "webauthn_registration_id")
		if field(reg, "session", "session_id") != sessionID || reg["session_token"] != token {
			t.Fatalf("register with session_token made a new session: %v", reg["session"])
		}
		if types := factorTypes(reg["session"].(obj)); len(types) != 2 || !types["magic_link"] || !types["webauthn"] {
			t.Errorf("factors %v, want magic_link and webauthn", field(reg, "session", "authentication_factors"))
		}

		// Signing in with the session adds the factor to it.
		other := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": 60}))
		token, sessionID = str(t, other, "session_token"), field(other, "session", "session_id")
		got := c.ok(c.signIn(a, "", obj{"session_token": token}))
		s := got["session"].(obj)
		if s["session_id"] != sessionID || got["session_token"] != token {
			t.Fatalf("step-up made a new session: %v, want %v", s["session_id"], sessionID)
		}
		factors := s["authentication_factors"].([]any)
		if types := factorTypes(s); len(factors) != 2 || !types["magic_link"] || !types["webauthn"] {
			t.Errorf("factors %v, want magic_link and webauthn", factors)
		}
		webauthnFactor(t, s, regID)
		checkSessionJWT(t, c.verifyJWT(str(t, got, "session_jwt")), s)
		// Again, by JWT and for the user: the factor is refreshed, not duplicated.
		third := c.ok(c.signIn(a, userID, obj{"session_jwt": str(t, got, "session_jwt")}))
		if field(third, "session", "session_id") != sessionID || len(field(third, "session", "authentication_factors").([]any)) != 2 {
			t.Errorf("second step-up: session %v, factors %v", field(third, "session", "session_id"), field(third, "session", "authentication_factors"))
		}
		// Another user's session is not stepped up.
		_, stranger := c.login("passkeystranger", 60)
		c.fails(c.signIn(a, "", obj{"session_token": str(t, stranger, "session_token")}), http.StatusBadRequest, "session_user_mismatch")
		after := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, stranger, "session_token")}))
		if n := len(field(after, "session", "authentication_factors").([]any)); n != 1 {
			t.Errorf("the stranger's session has %d factors, want 1", n)
		}
	}},
	{name: "webauthn/a session stepped up with many passkeys still authenticates", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, login := c.login("passkeymany", 60)
		token := str(t, login, "session_token")
		// Custom claims at their limit (4,096 bytes once serialised) and
		// passkeys whose user agents are the longest a registration keeps,
		// of characters JSON escapes to six bytes: every factor goes into
		// the JWT, which may be at most 16 KiB.
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token,
			"session_custom_claims": obj{"k": strings.Repeat(`"`, 2040)}}))
		var last string
		for range 4 {
			a := newAuthenticator(t)
			options := str(t, c.ok(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain,
				"return_passkey_credential_options": true, "use_base64_url_encoding": true,
				"user_agent": strings.Repeat("\x01", 600)})), "public_key_credential_creation_options")
			reg := c.ok(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": a.create(options), "session_token": token}))
			last = str(t, reg, "webauthn_registration_id")
		}
		got := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token}))
		s := got["session"].(obj)
		jwtTok := str(t, got, "session_jwt")
		if len(jwtTok) > 16<<10 {
			t.Fatalf("session JWT of %d bytes, more than 16 KiB", len(jwtTok))
		}
		checkSessionJWT(t, c.verifyJWT(jwtTok), s)
		found := false
		for _, f := range s["authentication_factors"].([]any) {
			if field(f.(obj), "webauthn_factor", "webauthn_registration_id") == last {
				found = true
			}
		}
		if !found {
			t.Errorf("the passkey registered last is not among the session's factors %v", s["authentication_factors"])
		}
	}},
	{name: "webauthn/a ceremony is finished once", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeyreplay")
		a := newAuthenticator(t)
		register := obj{"user_id": userID, "public_key_credential": a.create(c.startRegistration(userID))}
		c.ok(c.post("/v1/webauthn/register", register))
		c.fails(c.post("/v1/webauthn/register", register), http.StatusBadRequest, "webauthn_challenge_not_found")

		login := obj{"public_key_credential": a.get(c.startSignIn("")), "session_duration_minutes": 30}
		c.ok(c.post("/v1/webauthn/authenticate", login))
		c.fails(c.post("/v1/webauthn/authenticate", login), http.StatusBadRequest, "webauthn_challenge_not_found")

		// Sent at once, an assertion signs in once.
		statuses := c.concurrently(4, "/v1/webauthn/authenticate", obj{"public_key_credential": a.get(c.startSignIn(userID))})
		ok, refused := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusBadRequest:
				refused++
			}
		}
		if ok != 1 || refused != 3 {
			t.Errorf("one assertion sent four times at once: statuses %v, want one 200 and three 400", statuses)
		}
	}},
	{name: "webauthn/another origin is refused and spends the ceremony", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeyorigin")
		a := newAuthenticator(t)
		evil := a.at(virtualwebauthn.RelyingParty{Name: "Evil", ID: webauthnDomain, Origin: "http://evil.localhost:3000"})
		options := c.startRegistration(userID)
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": evil.create(options)}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": a.create(options)}), http.StatusBadRequest, "webauthn_challenge_not_found")
		if regs := webauthnRegistrations(t, c.ok(c.get("/v1/users/"+userID))); len(regs) != 0 {
			t.Fatalf("a refused registration is listed: %v", regs)
		}
		c.registerPasskey(a, userID, nil)
		for _, origin := range []string{"http://evil.localhost:3000", "https://evil.example", "http://localhost:3001", "https://localhost:3000"} {
			elsewhere := a.at(virtualwebauthn.RelyingParty{Name: "Elsewhere", ID: webauthnDomain, Origin: origin})
			options := c.startSignIn("")
			c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": elsewhere.get(options)}), http.StatusUnauthorized, "unable_to_auth_webauthn")
			c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(options)}), http.StatusBadRequest, "webauthn_challenge_not_found")
		}
		if got := c.ok(c.signIn(a, "", nil)); got["user_id"] != userID {
			t.Errorf("sign-in from the right origin: user_id %v", got["user_id"])
		}
	}},
	{name: "webauthn/another relying party ID is refused", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeyrpid")
		a := newAuthenticator(t)
		other := a.at(virtualwebauthn.RelyingParty{Name: "Example", ID: "example.com", Origin: WebAuthnOrigin})
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": other.create(c.startRegistration(userID))}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.registerPasskey(a, userID, nil)
		c.fails(c.signIn(other, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.signIn(other, userID, nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		// Domains that are not the host of the allowed origin, or a parent of it.
		for _, domain := range []string{"example.com", "evil.localhost", "ocalhost", "localhost:3000", "http://localhost:3000", ""} {
			c.fails(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": domain}), http.StatusBadRequest, "invalid_domain")
			c.fails(c.post("/v1/webauthn/authenticate/start", obj{"domain": domain}), http.StatusBadRequest, "invalid_domain")
			c.fails(c.post("/v1/webauthn/authenticate/start", obj{"domain": domain, "user_id": userID}), http.StatusBadRequest, "invalid_domain")
		}
		c.ok(c.signIn(a, userID, nil))
	}},
	{name: "webauthn/a ceremony expires after five minutes", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		if c.tg.Advance == nil {
			t.Skip("host runs on real time; this case needs its clock moved")
		}
		userID, _ := c.newUser("passkeystale")
		a := newAuthenticator(t)
		options := c.startRegistration(userID)
		c.advance(6 * time.Minute)
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": a.create(options)}), http.StatusBadRequest, "webauthn_challenge_not_found")
		c.registerPasskey(a, userID, nil)
		options = c.startSignIn("")
		c.advance(4 * time.Minute)
		c.ok(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(options)}))
		options = c.startSignIn(userID)
		c.advance(6 * time.Minute)
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(options)}), http.StatusBadRequest, "webauthn_challenge_not_found")
	}},
	{name: "webauthn/a deleted registration signs no one in", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeydelete")
		a := newAuthenticator(t)
		reg := c.registerPasskey(a, userID, obj{"session_duration_minutes": 30})
		regID := str(t, reg, "webauthn_registration_id")
		begun := c.startSignIn("")
		del := c.ok(c.do(http.MethodDelete, "/v1/users/webauthn_registrations/"+regID, nil, withAuth))
		if del["user_id"] != userID || len(webauthnRegistrations(t, del["user"])) != 0 {
			t.Errorf("delete: user_id %v, user %v", del["user_id"], del["user"])
		}
		if regs := webauthnRegistrations(t, c.ok(c.get("/v1/users/"+userID))); len(regs) != 0 {
			t.Errorf("deleted registration still listed: %v", regs)
		}
		// Neither a ceremony begun before the deletion nor one begun after.
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(begun)}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.signIn(a, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.post("/v1/webauthn/authenticate/start", obj{"domain": webauthnDomain, "user_id": userID}), http.StatusNotFound, "webauthn_registration_not_found")
		// The session it started stays.
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, reg, "session_token")}))
		c.fails(c.do(http.MethodDelete, "/v1/users/webauthn_registrations/"+regID, nil, withAuth), http.StatusNotFound, "webauthn_registration_not_found")
		c.fails(c.do(http.MethodDelete, "/v1/users/webauthn_registrations/nope", nil, withAuth), http.StatusBadRequest, "invalid_webauthn_registration_id")
	}},
	{name: "webauthn/a ceremony begun for one user is not finished by another", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		aliceID, _ := c.newUser("passkeyalice")
		bobID, _ := c.newUser("passkeybob")
		alice, bob := newAuthenticator(t), newAuthenticator(t)
		c.registerPasskey(alice, aliceID, nil)
		c.registerPasskey(bob, bobID, nil)
		c.fails(c.signIn(alice, bobID, nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		// A discoverable assertion whose user handle names bob, by alice's credential.
		forged := alice.at(webauthnRP)
		forged.auth.Options.UserHandle = []byte(bobID)
		c.fails(c.signIn(forged, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		// A credential the ceremony cannot accept spends it: bob's own
		// answer to the same challenge then finds nothing.
		begun := c.startSignIn(bobID)
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": alice.get(begun)}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": bob.get(begun)}), http.StatusBadRequest, "webauthn_challenge_not_found")
		// So does a credential nobody registered.
		begun = c.startSignIn("")
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": newAuthenticator(t).get(begun)}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": alice.get(begun)}), http.StatusBadRequest, "webauthn_challenge_not_found")
		// A registration begun for alice, finished for bob.
		cred := newAuthenticator(t).create(c.startRegistration(aliceID))
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": bobID, "public_key_credential": cred}), http.StatusBadRequest, "webauthn_challenge_not_found")
		for _, id := range []string{aliceID, bobID} {
			if regs := webauthnRegistrations(t, c.ok(c.get("/v1/users/"+id))); len(regs) != 1 {
				t.Errorf("user %s has %d registrations, want 1", id, len(regs))
			}
		}
		if got := c.ok(c.signIn(alice, aliceID, nil)); got["user_id"] != aliceID {
			t.Errorf("alice signed in as %v", got["user_id"])
		}
		if got := c.ok(c.signIn(bob, "", nil)); got["user_id"] != bobID {
			t.Errorf("bob signed in as %v", got["user_id"])
		}
	}},
	{name: "webauthn/name, list and exclude registrations", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeyname")
		a := newAuthenticator(t)
		start := c.ok(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain, "authenticator_type": "cross-platform", "use_base64_url_encoding": true}))
		reg := c.ok(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": a.create(str(t, start, "public_key_credential_creation_options"))}))
		regID := str(t, reg, "webauthn_registration_id")

		got := c.ok(c.do(http.MethodPut, "/v1/webauthn/"+regID, obj{"name": "Work key"}, withAuth))
		want := obj{"webauthn_registration_id": regID, "domain": webauthnDomain, "verified": true, "authenticator_type": "cross-platform", "user_agent": "", "name": "Work key"}
		if !reflect.DeepEqual(got["webauthn_registration"], want) {
			t.Errorf("webauthn_registration %v, want %v", got["webauthn_registration"], want)
		}
		if regs := webauthnRegistrations(t, c.ok(c.get("/v1/users/"+userID))); len(regs) != 1 || !reflect.DeepEqual(regs[0], want) {
			t.Errorf("webauthn_registrations %v, want [%v]", regs, want)
		}
		c.fails(c.do(http.MethodPut, "/v1/webauthn/"+regID, obj{"name": ""}, withAuth), http.StatusBadRequest, "bad_request")
		c.fails(c.do(http.MethodPut, "/v1/webauthn/"+regID, obj{"name": strings.Repeat("n", 201)}, withAuth), http.StatusBadRequest, "bad_request")
		c.fails(c.do(http.MethodPut, "/v1/webauthn/webauthn-registration-test-00000000-0000-4000-8000-000000000000", obj{"name": "x"}, withAuth), http.StatusNotFound, "webauthn_registration_not_found")
		c.fails(c.do(http.MethodPut, "/v1/webauthn/nope", obj{"name": "x"}, withAuth), http.StatusBadRequest, "invalid_webauthn_registration_id")

		creds, _ := c.ok(c.get("/v1/webauthn/credentials/" + userID + "/" + webauthnDomain))["credentials"].([]any)
		wantCred := obj{"credential_id": a.credentialID(), "public_key": a.publicKey(), "type": "cross-platform", "webauthn_registration_id": regID}
		if len(creds) != 1 || !reflect.DeepEqual(creds[0], wantCred) {
			t.Errorf("credentials %v, want [%v]", creds, wantCred)
		}
		if none, ok := c.ok(c.get("/v1/webauthn/credentials/" + userID + "/example.com"))["credentials"].([]any); !ok || len(none) != 0 {
			t.Errorf("credentials on example.com: %v, want []", none)
		}
		c.fails(c.get("/v1/webauthn/credentials/"+unknownUserID+"/"+webauthnDomain), http.StatusNotFound, "user_not_found")

		// A new registration excludes the credential, and registering it again is refused.
		options := c.startRegistration(userID)
		ex, _ := decodeOptions(t, options)["excludeCredentials"].([]any)
		if len(ex) != 1 || field(ex[0].(obj), "id") != a.credentialID() {
			t.Errorf("excludeCredentials %v, want [%s]", ex, a.credentialID())
		}
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": a.create(options)}), http.StatusBadRequest, "duplicate_webauthn_registration")
	}},
	{name: "webauthn/a sign counter that does not go forward is refused", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeycounter")
		a := newAuthenticator(t)
		c.registerPasskey(a, userID, nil)
		a.cred.Counter = 5
		c.ok(c.signIn(a, "", nil))
		// WebAuthn §7.2 step 22: a count not greater than the stored one
		// (once either is nonzero) signals a cloned authenticator.
		for _, n := range []uint32{3, 5, 0} {
			a.cred.Counter = n
			c.fails(c.signIn(a, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		}
		a.cred.Counter = 6
		c.ok(c.signIn(a, userID, nil))
		// Registered with a count, then one that went back to 0.
		b := newAuthenticator(t)
		b.cred.Counter = 7
		c.registerPasskey(b, userID, nil)
		b.cred.Counter = 0
		c.fails(c.signIn(b, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
	}},
	{name: "webauthn/user verification is required of passkeys", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeyuv")
		// A passkey registration needs the user verified.
		lazy := newAuthenticator(t).verifying(false)
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": lazy.create(c.startRegistration(userID))}), http.StatusUnauthorized, "unable_to_auth_webauthn")

		// A security key (standard base64 options) need not verify its user...
		start := c.ok(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain}))
		options := str(t, start, "public_key_credential_creation_options")
		o := decodeOptions(t, options)
		if field(o, "authenticatorSelection", "userVerification") != "preferred" || field(o, "authenticatorSelection", "residentKey") != "discouraged" {
			t.Errorf("security key options %s: want userVerification preferred, residentKey discouraged", options)
		}
		if handle := string(optionBytes(t, field(o, "user", "id"), false)); handle != userID {
			t.Errorf("user.id is %q, want the user id %s", handle, userID)
		}
		optionBytes(t, o["challenge"], false)
		c.ok(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": lazy.create(options)}))
		c.ok(c.signIn(lazy, userID, nil))
		// ...but a discoverable sign-in, or a passkey sign-in, requires it.
		c.fails(c.signIn(lazy, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
		passkey := c.ok(c.post("/v1/webauthn/authenticate/start", obj{"domain": webauthnDomain, "user_id": userID, "return_passkey_credential_options": true}))
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": lazy.get(str(t, passkey, "public_key_credential_request_options"))}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		if got := c.ok(c.signIn(lazy.verifying(true), "", nil)); got["user_id"] != userID {
			t.Errorf("verified discoverable sign-in: user_id %v", got["user_id"])
		}
	}},
	{name: "webauthn/bad input", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeybad")
		a := newAuthenticator(t)
		c.registerPasskey(a, userID, nil)
		assertion := a.get(c.startSignIn(userID))
		attestation := newAuthenticator(t).create(c.startRegistration(userID))
		for _, cred := range []string{"not json", "{}", `{"id": "x"}`, "", assertion} {
			c.fails(c.post("/v1/webauthn/register", obj{"user_id": userID, "public_key_credential": cred}), http.StatusBadRequest, "invalid_public_key_credential")
		}
		for _, cred := range []string{"not json", "{}", `{"id": "x"}`, "", attestation} {
			c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": cred}), http.StatusBadRequest, "invalid_public_key_credential")
		}
		c.fails(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain, "authenticator_type": "usb"}), http.StatusBadRequest, "bad_request")
		c.fails(c.post("/v1/webauthn/register/start", obj{"user_id": unknownUserID, "domain": webauthnDomain}), http.StatusNotFound, "user_not_found")
		c.fails(c.post("/v1/webauthn/authenticate/start", obj{"user_id": unknownUserID, "domain": webauthnDomain}), http.StatusNotFound, "user_not_found")
		c.fails(c.post("/v1/webauthn/register/start", obj{"user_id": "nope", "domain": webauthnDomain}), http.StatusBadRequest, "invalid_user_id")
		c.fails(c.post("/v1/webauthn/register", obj{"user_id": "nope", "public_key_credential": attestation}), http.StatusBadRequest, "invalid_user_id")
		other, _ := c.newUser("passkeynone")
		c.fails(c.post("/v1/webauthn/authenticate/start", obj{"user_id": other, "domain": webauthnDomain}), http.StatusNotFound, "webauthn_registration_not_found")
		// The refused calls spent nothing: the assertion still signs in.
		c.ok(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": assertion}))
	}},
	{name: "webauthn/deleting the user deletes its registrations", run: func(t *testing.T, c *client) {
		c.requireWebAuthn()
		userID, _ := c.newUser("passkeygone")
		a := newAuthenticator(t)
		c.registerPasskey(a, userID, nil)
		begun := c.startSignIn("")
		c.ok(c.do(http.MethodDelete, "/v1/users/"+userID, nil, withAuth))
		c.fails(c.post("/v1/webauthn/authenticate", obj{"public_key_credential": a.get(begun)}), http.StatusUnauthorized, "unable_to_auth_webauthn")
		c.fails(c.signIn(a, "", nil), http.StatusUnauthorized, "unable_to_auth_webauthn")
	}},
}
