package engine_test

import (
	"context"
	"database/sql"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/engine"
)

// TestDeleteLeavesNoLiveSession: a user's deletion is several statements,
// and a login of the user may finish between them (here: before each
// one, through another engine on the same database). Whatever session
// such a login stored, none is left unrevoked once the deletion answered:
// the API would refuse it (its user is gone), but a verifier would take
// its JWT until it expires, since the feed never said it ended.
func TestDeleteLeavesNoLiveSession(t *testing.T) {
	var armed atomic.Bool
	var during func()
	hooked, plain := hookedStore(t, func(at step) error {
		if at == atExec && armed.Load() {
			during()
		}
		return nil
	})
	client := func(db *sql.DB) *apitest.Client {
		e, err := engine.New(engine.Config{ProjectID: "project-test-delete", Secret: "secret", DB: db, Signer: testSigner(t)})
		if err != nil {
			t.Fatal(err)
		}
		return &apitest.Client{Handler: e, ProjectID: "project-test-delete", Secret: "secret"}
	}
	deleter, other := client(hooked), client(plain)
	userID := other.MustPost(t, "/v1/users", map[string]any{"email": "deleted@example.com"})["user_id"].(string)
	var tokens []string
	for range 20 {
		tokens = append(tokens, other.MustPost(t, "/v1/magic_links", map[string]any{"user_id": userID})["token"].(string))
	}
	logins := 0
	during = func() {
		if len(tokens) == 0 {
			return
		}
		token := tokens[0]
		tokens = tokens[1:]
		if status, _, _ := other.Post("/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 60}); status == http.StatusOK {
			logins++
		}
	}
	armed.Store(true)
	status, out, err := deleter.Do(context.Background(), http.MethodDelete, "/v1/users/"+userID, nil)
	armed.Store(false)
	if err != nil || status != http.StatusOK {
		t.Fatalf("delete: %d %v %v", status, out, err)
	}
	if logins == 0 {
		t.Fatal("no login finished during the deletion: the test tests nothing")
	}
	var live int
	if err := plain.QueryRow(`SELECT count(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL`, userID).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("%d sessions of logins during the deletion are left unrevoked (%d logins finished)", live, logins)
	}
}
