package engine_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/internal/password"
)

// gatedHasher holds a Verify, once armed, until the test releases it: a
// login that has read the password's hash and is still checking it.
type gatedHasher struct {
	engine.PasswordHasher
	armed    chan struct{} // receives once per gated Verify
	entered  chan struct{}
	released chan struct{}
}

func (g *gatedHasher) Verify(plain, encoded string) (bool, bool, error) {
	select {
	case <-g.armed:
		g.entered <- struct{}{}
		<-g.released
	default:
	}
	return g.PasswordHasher.Verify(plain, encoded)
}

// TestLoginInFlightLosesToReset holds a password login after it read the
// old hash, resets the password meanwhile, then lets the login finish: it
// must start no session, whatever the timing (on a store without
// credential versions it started one the reset never saw).
func TestLoginInFlightLosesToReset(t *testing.T) {
	g := &gatedHasher{
		PasswordHasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		armed:          make(chan struct{}, 1), entered: make(chan struct{}), released: make(chan struct{}),
	}
	e, err := engine.New(engine.Config{ProjectID: "project-test-inflight", Secret: "s", DB: openDB(t), Signer: testSigner(t), PasswordHasher: g})
	if err != nil {
		t.Fatal(err)
	}
	c := apitest.Client{Handler: e, ProjectID: "project-test-inflight", Secret: "s"}
	const email, oldPW = "inflight@example.com", "Latch-old-Quartz-7361!"
	s := c.MustPost(t, "/v1/passwords", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 30})

	type answer struct {
		status int
		body   map[string]any
	}
	done := make(chan answer)
	g.armed <- struct{}{}
	go func() {
		status, body, err := c.Post("/v1/passwords/authenticate", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 30})
		if err != nil {
			t.Error(err)
		}
		done <- answer{status, body}
	}()
	<-g.entered // the login holds the old hash
	c.MustPost(t, "/v1/passwords/session/reset", map[string]any{"session_token": s["session_token"], "password": "Latch-new-Quartz-9182!"})
	close(g.released)
	a := <-done
	if a.status != http.StatusConflict || a.body["error_type"] != "credentials_changed" {
		t.Fatalf("login that read the old password: %d %v, want 409 credentials_changed", a.status, a.body)
	}
	list := c.MustPost(t, "/v1/users/search", map[string]any{"query": map[string]any{"operator": "AND",
		"operands": []any{map[string]any{"filter_name": "email_address", "filter_value": []string{email}}}}})
	userID := list["results"].([]any)[0].(map[string]any)["user_id"].(string)
	status, sessions, err := c.Do(t.Context(), http.MethodGet, "/v1/sessions?user_id="+userID, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("list sessions: %d %v", status, err)
	}
	if n := len(sessions["sessions"].([]any)); n != 1 {
		t.Errorf("%d live sessions, want the reset's own one", n)
	}
}

// TestLoginBetweenVersionAndHash: a login that reads the user's row after
// a reset drew its new credentials version but before it wrote the new
// hash checks the old password against the old hash, under the new
// version. Its session must not outlive the reset. The reset is held in
// that gap by the Revoked hook, which the version change calls.
func TestLoginBetweenVersionAndHash(t *testing.T) {
	var armed atomic.Bool
	entered, released := make(chan struct{}), make(chan struct{})
	e, err := engine.New(engine.Config{ProjectID: "project-test-gap", Secret: "s", DB: openDB(t), Signer: testSigner(t),
		PasswordHasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		Revoked: func() {
			if armed.CompareAndSwap(true, false) {
				close(entered)
				<-released
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	c := apitest.Client{Handler: e, ProjectID: "project-test-gap", Secret: "s"}
	const email, oldPW = "gap@example.com", "Latch-old-Quartz-7361!"
	s := c.MustPost(t, "/v1/passwords", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 30})
	armed.Store(true)
	reset := make(chan error, 1)
	go func() {
		status, body, err := c.Post("/v1/passwords/session/reset", map[string]any{"session_token": s["session_token"], "password": "Latch-new-Quartz-9182!"})
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("reset: %d %v", status, body)
		}
		reset <- err
	}()
	<-entered // the new version is drawn; the old hash is still stored
	status, login, err := c.Post("/v1/passwords/authenticate", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 30})
	close(released)
	if err := <-reset; err != nil {
		t.Fatal(err)
	}
	if err != nil || status != http.StatusOK {
		t.Fatalf("the login in the gap, with the old hash still stored: %d %v %v, want a session", status, login, err)
	}
	if st, _, _ := c.Post("/v1/sessions/authenticate", map[string]any{"session_token": login["session_token"]}); st == http.StatusOK {
		t.Fatal("a session started with the old password in the reset's gap is live after the reset")
	}
}
