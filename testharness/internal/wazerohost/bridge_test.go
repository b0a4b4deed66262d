package wazerohost

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/internal/feedwait"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/bridge"
	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/mail"
)

// bridged returns a Server with a store and keys but no guest, and a
// database/sql handle whose statements cross the real framing into that
// store: the guest's view of the database, run natively.
func bridged(t *testing.T) (*Server, *sql.DB) {
	t.Helper()
	db, err := openDB(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &Server{ProjectID: "project-test-bridge", Secret: "secret", db: db, waiter: feedwait.New()}
	if err := s.SetKeys([]keys.Key{testKey(t)}); err != nil {
		t.Fatal(err)
	}
	guest := sql.OpenDB(bridge.Connector(s.call))
	t.Cleanup(func() { guest.Close() })
	return s, guest
}

// call is the native stand-in for the guest's "latch" "call" import.
func (s *Server) call(ctx context.Context, frame []byte) ([]byte, error) {
	return s.dispatch(ctx, frame), nil
}

func testKey(t *testing.T) keys.Key {
	t.Helper()
	k, err := keys.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestBridgeValues(t *testing.T) {
	_, db := bridged(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE v (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, f REAL, s TEXT, b BLOB, n TEXT, flag INTEGER, at TEXT)`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 4, 22, 7, 41, 52, 5, time.FixedZone("x", 3600))
	res, err := db.ExecContext(ctx, `INSERT INTO v (i, f, s, b, n, flag, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		int64(-1)<<40, 2.5, "ünï", []byte{0, 1, 255}, nil, true, at)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 1 {
		t.Errorf("LastInsertId = %d, want 1", id)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("RowsAffected = %d, want 1", n)
	}
	var (
		i       int64
		f       float64
		s       string
		b       []byte
		n       sql.NullString
		flag    bool
		atText  string
		missing int
	)
	err = db.QueryRowContext(ctx, `SELECT i, f, s, b, n, flag, at FROM v WHERE id = ?`, 1).Scan(&i, &f, &s, &b, &n, &flag, &atText)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{i, f, s, b, n.Valid, flag, atText}
	want := []any{int64(-1) << 40, 2.5, "ünï", []byte{0, 1, 255}, false, true, "2025-04-22T06:41:52.000000005Z"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if err := db.QueryRowContext(ctx, `SELECT i FROM v WHERE id = 99`).Scan(&missing); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("missing row: err = %v, want sql.ErrNoRows", err)
	}
	res, err = db.ExecContext(ctx, `UPDATE v SET s = 'x' WHERE id > 5`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 0 {
		t.Errorf("RowsAffected = %d, want 0", n)
	}
}

func TestBridgeErrors(t *testing.T) {
	_, db := bridged(t)
	ctx := context.Background()
	insert := `INSERT INTO users (user_id, email, email_id, created_at) VALUES (?, ?, ?, 0)`
	if _, err := db.ExecContext(ctx, insert, "user-1", "a@example.com", "email-1"); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, insert, "user-2", "a@example.com", "email-2")
	if err == nil || !strings.Contains(err.Error(), "UNIQUE constraint failed: users.email") {
		t.Errorf("duplicate email: err = %v, want SQLite's UNIQUE message", err)
	}
	if _, err := db.ExecContext(ctx, `SELEC nonsense`); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad SQL: err = %v, want a syntax error", err)
	}
	if _, err := db.BeginTx(ctx, nil); !errors.Is(err, bridge.ErrNoTx) {
		t.Errorf("BeginTx: err = %v, want ErrNoTx", err)
	}
	if _, err := db.ExecContext(ctx, `SELECT :x`, sql.Named("x", 1)); !errors.Is(err, bridge.ErrNamedArgs) {
		t.Errorf("named arg: err = %v, want ErrNamedArgs", err)
	}
}

func TestBridgeSigner(t *testing.T) {
	s, _ := bridged(t)
	k := s.Keys()[0]
	pub := keys.Public(k)
	signer, err := bridge.NewSigner(s.call, k.KID, []engine.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(context.Background(), []byte("header.payload"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("header.payload"))
	if err := rsa.VerifyPKCS1v15(&k.Private.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("host signature does not verify: %v", err)
	}

	// A kid the host does not hold (for example after SetKeys dropped it)
	// is refused, not signed with another key.
	stale, err := bridge.NewSigner(s.call, "jwk-test-gone", []engine.PublicKey{{KID: "jwk-test-gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stale.Sign(context.Background(), []byte("x")); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Errorf("unknown kid: err = %v", err)
	}
	if _, err := bridge.NewSigner(s.call, "jwk-test-other", []engine.PublicKey{pub}); err == nil {
		t.Error("NewSigner accepted a kid missing from the public keys")
	}
}

// TestBridgeMailer sends through the guest's side of the mail frame into
// the host's real SMTP transport and a mailbox on loopback: the message
// arrives field for field; a failed delivery and a host without a
// transport come back to the guest as errors.
func TestBridgeMailer(t *testing.T) {
	s, _ := bridged(t)
	box, addr := smtpMailbox(t, mailbox.SMTPConfig{})
	s.mailer = &mail.SMTP{Addr: addr}
	guest := bridge.NewMailer(s.call)
	msg := &engine.Message{From: "Latch <login@latch.test>", To: "ada@example.com", Subject: "Ünïcode subject",
		Text: "line one\nline two\n", HTML: "<p>line one</p>", Kind: engine.MailPasswordReset}
	if err := guest.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := waitMail(t, box, "ada@example.com", 0)
	want := mailbox.Message{ID: 1, Received: got.Received, Via: "smtp", From: "login@latch.test", To: "ada@example.com",
		Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, Kind: msg.Kind}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("received %+v\nwant %+v", *got, want)
	}

	s.mailer = &mail.SMTP{Addr: closedPort(t)}
	var remote *wire.RemoteError
	if err := guest.Send(context.Background(), msg); !errors.As(err, &remote) || !strings.Contains(err.Error(), "mail: smtp") {
		t.Errorf("closed port: err = %v, want the host's SMTP error", err)
	}
	s.mailer = nil
	if err := guest.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "no mail transport") {
		t.Errorf("no transport: err = %v", err)
	}
}
