package engine_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/engine"
)

// errCrashed is what every statement of a crashed store answers.
var errCrashed = errors.New("store crashed")

// crashingStore returns two engines on one database: crashing, whose
// store crashes once budget writes are spent, and healthy; and post, which
// calls one and returns the status and answer.
func crashingStore(t *testing.T) (crashing, healthy http.Handler, budget *atomic.Int64, post func(h http.Handler, path string, body any) (int, map[string]any)) {
	budget = &atomic.Int64{}
	budget.Store(1 << 30)
	// Writes go through until the budget is spent, then every statement
	// fails, as a process that dies mid-request leaves the database: what
	// was written stays, nothing after it is.
	crashingDB, healthyDB := hookedStore(t, func(at step) error {
		if at == atExec && budget.Add(-1) < 0 || at != atExec && budget.Load() < 0 {
			return errCrashed
		}
		return nil
	})
	newEngine := func(db *sql.DB) http.Handler {
		e, err := engine.New(engine.Config{ProjectID: "project-test-crash", Secret: "secret", DB: db, Signer: testSigner(t)})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	post = func(h http.Handler, path string, body any) (int, map[string]any) {
		c := apitest.Client{Handler: h, ProjectID: "project-test-crash", Secret: "secret"}
		status, out, err := c.Post(path, body)
		if err != nil {
			t.Fatal(err)
		}
		return status, out
	}
	return newEngine(crashingDB), newEngine(healthyDB), budget, post
}

// TestSignupSurvivesCrash crashes the store after every possible number of
// writes of a password signup and checks what is left: either the user
// with its password, or nothing, so that signing up again works. (Written
// as a user and then a password, a crash between the two left an email
// that could never get a password.)
func TestSignupSurvivesCrash(t *testing.T) {
	crashing, healthy, budget, post := crashingStore(t)
	const password = "Latch-Quartz-7f3a9c1e!"
	for writes := range 4 {
		t.Run(fmt.Sprintf("crash after %d writes", writes), func(t *testing.T) {
			email := fmt.Sprintf("crash-%d@example.com", writes)
			budget.Store(int64(writes))
			post(crashing, "/v1/passwords", map[string]any{"email": email, "password": password, "session_duration_minutes": 60})
			budget.Store(1 << 30)
			if status, _ := post(healthy, "/v1/passwords/authenticate", map[string]any{"email": email, "password": password}); status == http.StatusOK {
				return // the signup completed before the crash
			}
			if got, _ := post(healthy, "/v1/passwords", map[string]any{"email": email, "password": password}); got != http.StatusOK {
				t.Fatalf("signing up again after the crash: status %d", got)
			}
		})
	}
}

// TestCredentialChangesSurviveCrash crashes the store after every number
// of writes of a password reset and of an email's first proof, and checks
// that no crash leaves the new credentials beside a session the old ones
// started: once the new password works, or the address reads verified,
// the old session is dead (and, for the proof, the password set before
// it is gone).
func TestCredentialChangesSurviveCrash(t *testing.T) {
	crashing, healthy, budget, post := crashingStore(t)
	const oldPW, newPW = "Latch-Quartz-7f3a9c1e!", "Latch-Garnet-2b8d4e6f!"
	live := func(token any) bool {
		status, _ := post(healthy, "/v1/sessions/authenticate", map[string]any{"session_token": token})
		return status == http.StatusOK
	}
	for writes := range 8 {
		t.Run(fmt.Sprintf("reset, crash after %d writes", writes), func(t *testing.T) {
			email := fmt.Sprintf("reset-crash-%d@example.com", writes)
			_, old := post(healthy, "/v1/passwords", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 60})
			_, keep := post(healthy, "/v1/passwords/authenticate", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 60})
			budget.Store(int64(writes))
			post(crashing, "/v1/passwords/session/reset", map[string]any{"session_token": keep["session_token"], "password": newPW})
			budget.Store(1 << 30)
			changed, _ := post(healthy, "/v1/passwords/authenticate", map[string]any{"email": email, "password": newPW})
			if changed == http.StatusOK && live(old["session_token"]) {
				t.Fatalf("the new password works beside a session of the old one")
			}
		})
		t.Run(fmt.Sprintf("first proof, crash after %d writes", writes), func(t *testing.T) {
			email := fmt.Sprintf("proof-crash-%d@example.com", writes)
			_, squat := post(healthy, "/v1/passwords", map[string]any{"email": email, "password": oldPW, "session_duration_minutes": 60})
			_, link := post(healthy, "/v1/magic_links", map[string]any{"user_id": squat["user_id"], "delivery_method": "email"})
			budget.Store(int64(writes))
			post(crashing, "/v1/magic_links/authenticate", map[string]any{"token": link["token"], "session_duration_minutes": 60})
			budget.Store(1 << 30)
			_, u := post(healthy, "/v1/users/search", map[string]any{"query": map[string]any{"operator": "AND",
				"operands": []any{map[string]any{"filter_name": "email_address", "filter_value": []string{email}}}}})
			user := u["results"].([]any)[0].(map[string]any)
			verified := user["emails"].([]any)[0].(map[string]any)["verified"] == true
			pwWorks, _ := post(healthy, "/v1/passwords/authenticate", map[string]any{"email": email, "password": oldPW})
			if verified && (live(squat["session_token"]) || pwWorks == http.StatusOK) {
				t.Fatalf("the address reads verified beside the squatter's session or password")
			}
		})
	}
}
