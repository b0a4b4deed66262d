package engine_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver"

	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/mail"
)

// testKey is generated once per test binary: RSA generation is slow.
var testKey = sync.OnceValues(func() (keys.Key, error) { return keys.Generate(rand.Reader, "test") })

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openDB returns a migrated SQLite database in a temporary file.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := native.OpenDB(filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testSecretBox returns a secret box under a fresh random key.
func testSecretBox(t testing.TB) *keys.SecretBox {
	t.Helper()
	key, err := keys.NewSecretKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	box, err := keys.NewSecretBox(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func testSigner(t testing.TB) *keys.Signer {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.NewSigner([]keys.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rotatingSigner is a keys.Signer whose key set can be rotated while the
// engine serves, as the hosts' signers can.
type rotatingSigner struct {
	mu   sync.Mutex
	set  []keys.Key
	cur  *keys.Signer
	env  string
	when func() time.Time
}

func (r *rotatingSigner) signer() *keys.Signer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

func (r *rotatingSigner) KeyID() string                  { return r.signer().KeyID() }
func (r *rotatingSigner) PublicKeys() []engine.PublicKey { return r.signer().PublicKeys() }
func (r *rotatingSigner) Sign(ctx context.Context, in []byte) ([]byte, error) {
	return r.signer().Sign(ctx, in)
}

// rotate is conformance.Target.RotateKeys.
func (r *rotatingSigner) rotate(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set, err := keys.Rotate(r.set, rand.Reader, r.env, r.when().Unix(), 0)
	if err == nil {
		r.cur, err = keys.NewSigner(set)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.set = set
}

// TestConformance runs the shared HTTP suite against the native engine.
func TestConformance(t *testing.T) {
	clk := &clock{t: time.Now().Truncate(time.Second)}
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := &rotatingSigner{set: []keys.Key{k}, cur: testSigner(t), env: "test", when: clk.Now}
	box, smtpAddr := startMailbox(t)
	const redirect = "http://localhost:3000/authenticate"
	prov := conformance.StartProviders(t, clk.Now)
	s := native.Start(t, native.Config{
		ProjectID:    "project-test-2d3b8f0e-4a55-4c1e-9b7a-0d1f4e6c8a21",
		Secret:       "secret-test-conformance",
		Signer:       signer,
		Now:          clk.Now,
		Mailer:       &mail.SMTP{Addr: smtpAddr},
		MailFrom:     "Latch <login@latch.test>",
		RedirectURLs: []string{redirect},
		// The conformance suite's identity providers on loopback.
		OAuthProviders: []byte(prov.Document()),
		// The origin of the WebAuthn cases' browser, and only it.
		WebAuthnOrigins: []string{conformance.WebAuthnOrigin},
	})
	conformance.Run(t, conformance.Target{
		URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret,
		Advance: clk.Advance, RotateKeys: signer.rotate,
		ReadMail: conformance.MailboxReader(box), RedirectURL: redirect,
		OAuth: prov, PublicToken: s.PublicToken, WebAuthn: true,
	})
}

// startMailbox runs a mailbox's SMTP server on loopback for the test.
func startMailbox(t *testing.T) (*mailbox.Mailbox, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := mailbox.New(0)
	srv := mailbox.ServeSMTP(l, box, mailbox.SMTPConfig{})
	t.Cleanup(func() { srv.Close() })
	return box, srv.Addr
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	db, signer := openDB(t), testSigner(t)
	full := engine.Config{ProjectID: "project-test-x", Secret: "s", DB: db, Signer: signer}
	for _, tc := range []struct {
		name   string
		modify func(*engine.Config)
	}{
		{name: "zero value", modify: func(c *engine.Config) { *c = engine.Config{} }},
		{name: "no project", modify: func(c *engine.Config) { c.ProjectID = "" }},
		{name: "no secret", modify: func(c *engine.Config) { c.Secret = "" }},
		{name: "no db", modify: func(c *engine.Config) { c.DB = nil }},
		{name: "no signer", modify: func(c *engine.Config) { c.Signer = nil }},
		{name: "bad key", modify: func(c *engine.Config) { c.Signer = badSigner{} }},
		{name: "webauthn origin over http", modify: func(c *engine.Config) { c.WebAuthnOrigins = []string{"http://app.example.com"} }},
		{name: "webauthn origin with a path", modify: func(c *engine.Config) { c.WebAuthnOrigins = []string{"https://app.example.com/login"} }},
		{name: "webauthn origin not a URL", modify: func(c *engine.Config) { c.WebAuthnOrigins = []string{"app.example.com"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := full
			tc.modify(&cfg)
			_, err := engine.New(cfg)
			if !errors.Is(err, engine.ErrConfig) {
				t.Fatalf("New: got %v, want ErrConfig", err)
			}
		})
	}
	if _, err := engine.New(full); err != nil {
		t.Fatalf("complete config: %v", err)
	}
	full.WebAuthnOrigins = []string{"https://app.example.com", "http://localhost:3000", "http://127.0.0.1:8787"}
	if _, err := engine.New(full); err != nil {
		t.Fatalf("https and loopback http WebAuthn origins: %v", err)
	}
}

type badSigner struct{}

func (badSigner) KeyID() string                                { return "k" }
func (badSigner) Sign(context.Context, []byte) ([]byte, error) { return nil, errors.New("no") }
func (badSigner) PublicKeys() []engine.PublicKey {
	return []engine.PublicKey{{KID: "k", N: "!!", E: "AQAB"}}
}
