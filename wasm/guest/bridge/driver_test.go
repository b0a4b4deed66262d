package bridge

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/guest/wire"
)

// recorder answers every Stmt with answer and keeps what it was sent. The
// SQLite side of the bridge is tested end to end in testharness; this
// checks the guest side's conversions and error paths on real frames.
type recorder struct {
	got    []*wire.Stmt
	answer []byte
}

func (r *recorder) call(_ context.Context, frame []byte) ([]byte, error) {
	s, err := wire.ParseStmt(frame)
	if err != nil {
		return nil, err
	}
	r.got = append(r.got, s)
	return r.answer, nil
}

func open(t *testing.T, answer []byte) (*sql.DB, *recorder) {
	t.Helper()
	r := &recorder{answer: answer}
	db := sql.OpenDB(Connector(r.call))
	t.Cleanup(func() { db.Close() })
	return db, r
}

func TestArguments(t *testing.T) {
	ok, _ := wire.AppendResult(nil, &wire.Result{RowsAffected: 2, LastInsertID: 7})
	db, r := open(t, ok)
	type myInt int32
	at := time.Date(2025, 4, 22, 9, 41, 52, 0, time.FixedZone("x", 2*3600))
	res, err := db.Exec("UPDATE t SET a = ?", 5, myInt(6), uint8(7), true, false, 1.5, "s", []byte("b"), nil, at)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(5), int64(6), int64(7), int64(1), int64(0), 1.5, "s", []byte("b"), nil, "2025-04-22T07:41:52Z"}
	if len(r.got) != 1 || r.got[0].Query || !reflect.DeepEqual(r.got[0].Args, want) {
		t.Fatalf("sent %#v, want exec with %#v", r.got, want)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("RowsAffected = %d, want 2", n)
	}
	if id, _ := res.LastInsertId(); id != 7 {
		t.Errorf("LastInsertId = %d, want 7", id)
	}
}

func TestRows(t *testing.T) {
	answer, _ := wire.AppendResult(nil, &wire.Result{
		Columns: []string{"id", "n"},
		Rows:    [][]any{{"a", int64(1)}, {"b", nil}},
	})
	db, r := open(t, answer)
	rows, err := db.Query("SELECT id, n FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id string
		var n sql.NullInt64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+":"+map[bool]string{true: "set", false: "null"}[n.Valid])
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"a:set", "b:null"}) || !r.got[0].Query {
		t.Fatalf("rows %v, stmt %+v", got, r.got[0])
	}
}

func TestErrors(t *testing.T) {
	db, _ := open(t, wire.AppendError(nil, "sqlite3: constraint failed: UNIQUE constraint failed: users.email"))
	_, err := db.Exec("INSERT INTO users VALUES (?)", "x")
	var remote *wire.RemoteError
	if !errors.As(err, &remote) || !strings.Contains(err.Error(), "UNIQUE constraint failed: users.email") {
		t.Errorf("remote error: %v", err)
	}
	if _, err := db.Begin(); !errors.Is(err, ErrNoTx) {
		t.Errorf("Begin: err = %v, want ErrNoTx", err)
	}
	if _, err := db.Exec("SELECT :a", sql.Named("a", 1)); !errors.Is(err, ErrNamedArgs) {
		t.Errorf("named: err = %v, want ErrNamedArgs", err)
	}
	if _, err := db.Exec("SELECT ?", struct{}{}); err == nil {
		t.Error("struct argument accepted")
	}
	garbled, _ := open(t, []byte("T\x01"))
	if _, err := garbled.Exec("SELECT 1"); !errors.Is(err, wire.ErrFrame) {
		t.Errorf("garbled answer: err = %v, want ErrFrame", err)
	}
}
