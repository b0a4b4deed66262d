package sdk_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/sdk"
)

// Passkeys through the SDK (webauthn.go), against the engine natively:
// virtualwebauthn is the browser on passkeyOrigin and its authenticator,
// and each call is made as @stytch/vanilla-js's webauthn client makes it.

// passkeyOrigin is the page the ceremonies come from, and the only origin
// the engine allows for them; its host is the relying party ID.
const passkeyOrigin = "http://localhost:3000"

var passkeyRP = virtualwebauthn.RelyingParty{Name: "Latch", ID: "localhost", Origin: passkeyOrigin}

// clock is the engine's and the surface's clock, moved by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newPasskeyFixture is the fixture with WebAuthn allowed for
// passkeyOrigin, the engine and the surface on one clock.
func newPasskeyFixture(t *testing.T) (*fixture, *clock) {
	t.Helper()
	clk := &clock{now: time.Now()}
	f := newFixtureOn(t, native.Config{WebAuthnOrigins: []string{passkeyOrigin}, Now: clk.Now},
		func(c *sdk.Config) { c.Now = clk.Now })
	return f, clk
}

// passkey is an authenticator holding one discoverable credential (an
// ES256 key) that verifies its user, as a platform passkey does.
type passkey struct {
	t    *testing.T
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// newPasskey is a software authenticator with one ES256 credential.
func newPasskey(t *testing.T) *passkey {
	t.Helper()
	return &passkey{t: t, auth: virtualwebauthn.NewAuthenticator(), cred: apitest.WebAuthnCredential(t)}
}

// id is the credential's id, in the standard base64 of Stytch's options.
func (p *passkey) id() string { return base64.StdEncoding.EncodeToString(p.cred.ID) }

// create answers creation options as navigator.credentials.create does;
// the authenticator keeps the user handle, to name its user at sign-in.
func (p *passkey) create(options string) string {
	p.t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(urlOptions(p.t, options))
	if err != nil {
		p.t.Fatalf("creation options %.300q: %v", options, err)
	}
	p.auth.Options.UserHandle = []byte(o.UserID)
	return virtualwebauthn.CreateAttestationResponse(passkeyRP, p.auth, p.cred, *o)
}

// get answers request options as navigator.credentials.get does.
func (p *passkey) get(options string) string {
	p.t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(urlOptions(p.t, options))
	if err != nil {
		p.t.Fatalf("request options %.300q: %v", options, err)
	}
	return virtualwebauthn.CreateAssertionResponse(passkeyRP, p.auth, p.cred, *o)
}

// urlOptions rewrites options whose binary members are standard base64,
// as the SDK gets them when it does not ask for base64url, into the
// base64url that virtualwebauthn reads (@github/webauthn-json reads
// both).
func urlOptions(t *testing.T, options string) string {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal([]byte(options), &o); err != nil {
		t.Fatalf("options are not a JSON object: %v: %.300q", err, options)
	}
	conv := func(m map[string]any, key string) {
		s, _ := m[key].(string)
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if s == "" || err != nil {
			t.Fatalf("options member %s %q is not standard base64: %v", key, s, err)
		}
		m[key] = base64.RawURLEncoding.EncodeToString(b)
	}
	conv(o, "challenge")
	if u, ok := o["user"].(map[string]any); ok {
		conv(u, "id")
	}
	for _, list := range []string{"excludeCredentials", "allowCredentials"} {
		items, _ := o[list].([]any)
		for _, it := range items {
			conv(it.(map[string]any), "id")
		}
	}
	out, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// passkeyStart is the body of the SDK's register/start and
// authenticate/start calls for stytch.webauthn.register({domain:
// "localhost", is_passkey: true}) and .authenticate alike.
var passkeyStart = map[string]any{"domain": "localhost", "return_passkey_credential_options": true, "user_agent": "Mozilla/5.0 (sdk test)"}

// startRegistration is the SDK's register/start for the caller session;
// it returns the answer, whatever it is.
func (f *fixture) startRegistration(session string) reply {
	f.t.Helper()
	return f.call(app, "POST", "/webauthn/register/start", session, passkeyStart)
}

// register is stytch.webauthn.register for the caller session: start,
// the browser's create, register. It returns register's answer.
func (f *fixture) register(p *passkey, session string) reply {
	f.t.Helper()
	start := f.startRegistration(session).data(f.t)
	options, _ := start["public_key_credential_creation_options"].(string)
	return f.call(app, "POST", "/webauthn/register", session, map[string]any{
		"public_key_credential": p.create(options), "session_duration_minutes": 60})
}

// authenticate is stytch.webauthn.authenticate: start/primary signed out
// (session ""), start/secondary signed in, the browser's get, then
// authenticate. It returns authenticate's data.
func (f *fixture) authenticate(p *passkey, session string) map[string]any {
	f.t.Helper()
	path := "/webauthn/authenticate/start/primary"
	if session != "" {
		path = "/webauthn/authenticate/start/secondary"
	}
	start := f.call(app, "POST", path, session, map[string]any{"domain": "localhost", "return_passkey_credential_options": true}).data(f.t)
	options, _ := start["public_key_credential_request_options"].(string)
	return f.call(app, "POST", "/webauthn/authenticate", session, map[string]any{
		"public_key_credential": p.get(options), "session_duration_minutes": 60}).data(f.t)
}

// factorTypes are the types of a login answer's session factors.
func factorTypes(login map[string]any) map[string]bool {
	types := map[string]bool{}
	s, _ := login["session"].(map[string]any)
	factors, _ := s["authentication_factors"].([]any)
	for _, f := range factors {
		m, _ := f.(map[string]any)
		typ, _ := m["type"].(string)
		types[typ] = true
	}
	return types
}

// registrations are the webauthn_registrations of a user object.
func registrations(user any) []map[string]any {
	u, _ := user.(map[string]any)
	list, _ := u["webauthn_registrations"].([]any)
	var out []map[string]any
	for _, r := range list {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

// apiUser is the user as the project's backend reads it.
func (f *fixture) apiUser(userID string) map[string]any {
	f.t.Helper()
	status, u, err := f.api.Do(context.Background(), http.MethodGet, "/v1/users/"+userID, nil)
	if err != nil || status != http.StatusOK {
		f.t.Fatalf("GET /v1/users/%s: %d %v %v", userID, status, u, err)
	}
	return u
}

// TestPasskey: a signed-in caller registers a passkey, its session gaining
// the factor; signed out, the passkey signs in; signed in, a session of
// another factor steps up with it; the caller names its registration, and
// no other user can.
func TestPasskey(t *testing.T) {
	f, clk := newPasskeyFixture(t)
	login := f.signIn("passkey@example.com")
	tok, uid := login["session_token"].(string), login["user_id"].(string)
	p := newPasskey(t)

	reg := f.register(p, tok).data(t)
	regID, _ := reg["webauthn_registration_id"].(string)
	if regID == "" || reg["user_id"] != uid || reg["session_token"] != tok {
		t.Fatalf("register: webauthn_registration_id %q, user_id %v, session_token %v; want the caller's session", regID, reg["user_id"], reg["session_token"])
	}
	if types := factorTypes(reg); !types["otp"] || !types["webauthn"] || len(types) != 2 {
		t.Errorf("register: the caller's session has factors %v, want otp and webauthn", types)
	}
	if regs := registrations(reg["__user"]); len(regs) != 1 || regs[0]["webauthn_registration_id"] != regID || regs[0]["domain"] != "localhost" {
		t.Errorf("register: __user's webauthn_registrations %v, want %s on localhost", regs, regID)
	}
	if u, _ := reg["__user"].(map[string]any); u == nil || len(u["trusted_metadata"].(map[string]any)) != 0 {
		t.Errorf("register: __user %v, want the user without its trusted metadata", reg["__user"])
	}

	// Signed out, the discoverable passkey names its user: a new session.
	in := f.authenticate(p, "")
	newTok, _ := in["session_token"].(string)
	if in["user_id"] != uid || in["webauthn_registration_id"] != regID || newTok == "" || newTok == tok || in["__user"] == nil {
		t.Fatalf("authenticate signed out: user_id %v, webauthn_registration_id %v, session_token %q; want a new session of %s", in["user_id"], in["webauthn_registration_id"], newTok, uid)
	}
	if types := factorTypes(in); !types["webauthn"] || len(types) != 1 {
		t.Errorf("authenticate signed out: factors %v, want webauthn", types)
	}
	if status, res, err := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": newTok}); err != nil || status != http.StatusOK {
		t.Errorf("the backend refuses the passkey's session: %d %v %v", status, res, err)
	}

	// Signed in by another factor: start/secondary lists the caller's
	// credential, and the passkey is added to the caller's session. (The
	// engine mails an inbox once in 20 seconds.)
	clk.add(30 * time.Second)
	other := f.signIn("passkey@example.com")
	otherTok := other["session_token"].(string)
	start := f.call(app, "POST", "/webauthn/authenticate/start/secondary", otherTok, map[string]any{"domain": "localhost"}).data(t)
	var options struct {
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	}
	raw, _ := start["public_key_credential_request_options"].(string)
	if err := json.Unmarshal([]byte(raw), &options); err != nil || len(options.AllowCredentials) != 1 || options.AllowCredentials[0].ID != p.id() {
		t.Errorf("start/secondary: options %.300q (%v), want allowCredentials [%s]", raw, err, p.id())
	}
	stepped := f.authenticate(p, otherTok)
	if stepped["session_token"] != otherTok {
		t.Errorf("authenticate signed in made another session: %v", stepped["session_token"])
	}
	if types := factorTypes(stepped); !types["otp"] || !types["webauthn"] {
		t.Errorf("authenticate signed in: factors %v, want otp and webauthn", types)
	}

	upd := f.call(app, "PUT", "/webauthn/update/"+regID, newTok, map[string]any{"name": "Laptop"}).data(t)
	if r, _ := upd["webauthn_registration"].(map[string]any); r["name"] != "Laptop" || r["webauthn_registration_id"] != regID {
		t.Errorf("update: webauthn_registration %v, want %s named Laptop", upd["webauthn_registration"], regID)
	}
	if regs := registrations(f.apiUser(uid)); len(regs) != 1 || regs[0]["name"] != "Laptop" {
		t.Errorf("after update the backend reads %v", regs)
	}

	// Another user's registration is not found, and keeps its name.
	stranger := f.signIn("stranger@example.com")["session_token"].(string)
	r := f.call(app, "PUT", "/webauthn/update/"+regID, stranger, map[string]any{"name": "Mine"})
	if r.status != http.StatusNotFound || r.body["error_type"] != "webauthn_registration_not_found" {
		t.Errorf("update of another user's registration: %d %v, want 404 webauthn_registration_not_found", r.status, r.body)
	}
	if regs := registrations(f.apiUser(uid)); len(regs) != 1 || regs[0]["name"] != "Laptop" {
		t.Errorf("after the stranger's update the backend reads %v", regs)
	}
}

// TestPasskeyRefusals: adding a passkey needs a session, a sign-in within
// the last 10 minutes, and for a user with an authenticator app a session
// that has passed it.
func TestPasskeyRefusals(t *testing.T) {
	t.Run("no session", func(t *testing.T) {
		f, _ := newPasskeyFixture(t)
		for _, path := range []string{"/webauthn/register/start", "/webauthn/register", "/webauthn/authenticate/start/secondary"} {
			r := f.call(app, "POST", path, "", passkeyStart)
			if r.status != http.StatusUnauthorized || r.body["error_type"] != "unauthorized_credentials" {
				t.Errorf("%s signed out: %d %v, want 401 unauthorized_credentials", path, r.status, r.body)
			}
		}
		r := f.call(app, "PUT", "/webauthn/update/webauthn-registration-test-00000000-0000-4000-8000-000000000000", "", map[string]any{"name": "x"})
		if r.status != http.StatusUnauthorized {
			t.Errorf("update signed out: %d %v, want 401", r.status, r.body)
		}
	})

	t.Run("stale sign-in", func(t *testing.T) {
		f, clk := newPasskeyFixture(t)
		login := f.signIn("stale@example.com")
		tok, uid := login["session_token"].(string), login["user_id"].(string)
		p := newPasskey(t)
		// Within the 10 minutes: begun.
		clk.add(9 * time.Minute)
		start := f.startRegistration(tok).data(t)
		credential := p.create(start["public_key_credential_creation_options"].(string))
		// Past them: neither begun nor finished.
		clk.add(2 * time.Minute)
		if r := f.startRegistration(tok); r.status != http.StatusForbidden || r.body["error_type"] != "unauthorized_action" {
			t.Errorf("register/start 11 minutes after the sign-in: %d %v, want 403 unauthorized_action", r.status, r.body)
		}
		r := f.call(app, "POST", "/webauthn/register", tok, map[string]any{"public_key_credential": credential, "session_duration_minutes": 60})
		if r.status != http.StatusForbidden || r.body["error_type"] != "unauthorized_action" {
			t.Errorf("register 11 minutes after the sign-in: %d %v, want 403 unauthorized_action", r.status, r.body)
		}
		if regs := registrations(f.apiUser(uid)); len(regs) != 0 {
			t.Errorf("a refused register added %v", regs)
		}
		// The session itself is still good, and a new sign-in may add one.
		if r := f.call(app, "POST", "/sessions/authenticate", tok, map[string]any{}); r.status != http.StatusOK {
			t.Errorf("the stale session: %d %v", r.status, r.body)
		}
		fresh := f.signIn("stale@example.com")["session_token"].(string)
		f.register(p, fresh).data(t)
	})

	t.Run("authenticator app not passed", func(t *testing.T) {
		f, clk := newPasskeyFixture(t)
		first := f.signIn("app@example.com")["session_token"].(string)
		enrolled := f.call(app, "POST", "/totps", first, map[string]any{"expiration_minutes": 5}).data(t)
		secret := enrolled["secret"].(string)
		f.call(app, "POST", "/totps/authenticate", first, map[string]any{
			"totp_code": apitest.TOTP(t, secret, clk.Now().Unix()), "session_duration_minutes": 60}).data(t)

		// A new session by emailed code alone (the engine mails an inbox
		// once in 20 seconds).
		clk.add(30 * time.Second)
		tok := f.signIn("app@example.com")["session_token"].(string)
		if r := f.startRegistration(tok); r.status != http.StatusForbidden || r.body["error_type"] != "unauthorized_action" {
			t.Errorf("register/start by a session that has not passed the app: %d %v, want 403 unauthorized_action", r.status, r.body)
		}
		// Once it has (a code of the next step: the app's last is spent).
		clk.add(30 * time.Second)
		f.call(app, "POST", "/totps/authenticate", tok, map[string]any{
			"totp_code": apitest.TOTP(t, secret, clk.Now().Unix()), "session_duration_minutes": 60}).data(t)
		reg := f.register(newPasskey(t), tok).data(t)
		if types := factorTypes(reg); !types["otp"] || !types["totp"] || !types["webauthn"] {
			t.Errorf("register after the app: factors %v, want otp, totp and webauthn", types)
		}
	})
}

// TestAddingAWayInNeedsAFreshSession: an authenticator app and a provider
// identity outlive a password reset as a passkey does, so the SDK adds
// them only for a session signed in within the last 10 minutes (and
// past the app, for a user with one). Otherwise a day-old stolen session
// could enrol an app of its own, pass it, and then add a passkey.
func TestAddingAWayInNeedsAFreshSession(t *testing.T) {
	f, clk := newPasskeyFixture(t)
	login := f.signIn("stale-app@example.com")
	tok, uid := login["session_token"].(string), login["user_id"].(string)
	clk.add(11 * time.Minute)
	for _, try := range []struct{ path string }{{"/totps"}, {"/oauth/attach"}} {
		r := f.call(app, "POST", try.path, tok, map[string]any{"expiration_minutes": 5, "provider": "google"})
		if r.status != http.StatusForbidden || r.body["error_type"] != "unauthorized_action" {
			t.Errorf("%s 11 minutes after the sign-in: %d %v, want 403 unauthorized_action", try.path, r.status, r.body)
		}
	}
	if totps, _ := f.apiUser(uid)["totps"].([]any); len(totps) != 0 {
		t.Errorf("a refused enrolment added %v", totps)
	}
	// A fresh sign-in enrols one, and the answer keeps the user's trusted
	// metadata back from the browser, in user and in __user alike.
	if _, _, err := f.api.Do(context.Background(), "PUT", "/v1/users/"+uid, map[string]any{"trusted_metadata": map[string]any{"role": "admin"}}); err != nil {
		t.Fatal(err)
	}
	fresh := f.signIn("stale-app@example.com")["session_token"].(string)
	enrolled := f.call(app, "POST", "/totps", fresh, map[string]any{"expiration_minutes": 5}).data(t)
	for _, k := range []string{"user", "__user"} {
		u, _ := enrolled[k].(map[string]any)
		if u == nil || fmt.Sprint(u["trusted_metadata"]) != "map[]" {
			t.Errorf("the enrolment's %s carries trusted metadata %v", k, u["trusted_metadata"])
		}
	}
}
