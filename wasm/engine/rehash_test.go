package engine_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/internal/password"
)

// TestPasswordRehashedWhenParamsChange raises the hash parameters between
// two engines on one database: the next successful login stores a hash made
// with the new parameters, and the password keeps working.
func TestPasswordRehashedWhenParamsChange(t *testing.T) {
	db, signer := openDB(t), testSigner(t)
	weak := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	strong := password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	newEngine := func(p password.Params) *engine.Engine {
		e, err := engine.New(engine.Config{ProjectID: "project-test-rehash", Secret: "s", DB: db, Signer: signer,
			PasswordHasher: password.NewHasher(p)})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	post := func(e *engine.Engine, path, body string) int {
		c := apitest.Client{Handler: e, ProjectID: "project-test-rehash", Secret: "s"}
		status, _, err := c.Post(path, body)
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	stored := func() string {
		var h string
		if err := db.QueryRow(`SELECT hash FROM passwords`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	const creds = `{"email":"rehash@example.com","password":"Latch-4f9a1c7e2b-Quartz!"}`
	if code := post(newEngine(weak), "/v1/passwords", creds); code != http.StatusOK {
		t.Fatalf("create: %d", code)
	}
	if h := stored(); !strings.Contains(h, "m=64,t=1,") {
		t.Fatalf("stored hash %q is not the weak parameters", h)
	}
	raised := newEngine(strong)
	if code := post(raised, "/v1/passwords/authenticate", `{"email":"rehash@example.com","password":"wrong-password-here"}`); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", code)
	}
	if h := stored(); !strings.Contains(h, "m=64,t=1,") {
		t.Fatalf("a failed login rehashed: %q", h)
	}
	if code := post(raised, "/v1/passwords/authenticate", creds); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	if h := stored(); !strings.Contains(h, "m=128,t=2,") {
		t.Fatalf("stored hash %q was not raised to the new parameters", h)
	}
	if code := post(raised, "/v1/passwords/authenticate", creds); code != http.StatusOK {
		t.Fatalf("login after rehash: %d", code)
	}
}
