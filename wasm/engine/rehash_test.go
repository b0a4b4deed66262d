package engine_test

import (
	"net/http"
	"strings"
	"sync"
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

// heldHasher holds the first Verify of plain until release is closed,
// telling checking when it starts.
type heldHasher struct {
	engine.PasswordHasher
	plain             string
	once              sync.Once
	checking, release chan struct{}
}

func (h *heldHasher) Verify(plain, encoded string) (bool, bool, error) {
	if plain == h.plain {
		h.once.Do(func() {
			close(h.checking)
			<-h.release
		})
	}
	return h.PasswordHasher.Verify(plain, encoded)
}

// TestRehashDoesNotUndoAReset: a login with the old password reads its
// hash (old parameters), then the password is reset while the login
// compares. The login's session is refused, and its rehash of the old
// password must not land over the new hash either.
func TestRehashDoesNotUndoAReset(t *testing.T) {
	db, signer := openDB(t), testSigner(t)
	weak := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	strong := password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	const oldPassword, newPassword = "Latch-4f9a1c7e2b-Quartz!", "Latch-Garnet-2b8d4e6f-Opal!"
	client := func(h engine.PasswordHasher) *apitest.Client {
		e, err := engine.New(engine.Config{ProjectID: "project-test-rehash", Secret: "s", DB: db, Signer: signer, PasswordHasher: h})
		if err != nil {
			t.Fatal(err)
		}
		return &apitest.Client{Handler: e, ProjectID: "project-test-rehash", Secret: "s"}
	}
	created := client(password.NewHasher(weak)).MustPost(t, "/v1/passwords",
		map[string]any{"email": "reset-race@example.com", "password": oldPassword, "session_duration_minutes": 60})
	held := &heldHasher{PasswordHasher: password.NewHasher(strong), plain: oldPassword,
		checking: make(chan struct{}), release: make(chan struct{})}
	c := client(held)
	login := make(chan int)
	go func() {
		status, _, err := c.Post("/v1/passwords/authenticate",
			map[string]any{"email": "reset-race@example.com", "password": oldPassword, "session_duration_minutes": 60})
		if err != nil {
			t.Error(err)
		}
		login <- status
	}()
	<-held.checking
	c.MustPost(t, "/v1/passwords/session/reset", map[string]any{"session_token": created["session_token"], "password": newPassword})
	close(held.release)
	if status := <-login; status != http.StatusConflict {
		t.Errorf("the login that read the old password: %d, want 409", status)
	}
	for _, try := range []struct {
		password string
		want     int
	}{{newPassword, http.StatusOK}, {oldPassword, http.StatusUnauthorized}} {
		status, out, err := c.Post("/v1/passwords/authenticate", map[string]any{"email": "reset-race@example.com", "password": try.password})
		if err != nil || status != try.want {
			t.Errorf("after the reset, password %q: %d %v %v, want %d", try.password, status, out["error_type"], err, try.want)
		}
	}
}
