package engine_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"testing"

	sqlite "github.com/ncruces/go-sqlite3/driver"

	"github.com/latchauth/latch/wasm/migrations"
)

// step is where a statement of the engine's store is when a hook runs.
type step int

const (
	atPrepare step = iota
	atExec
	atQuery
)

// hookedConnector calls hook before a statement is prepared, executed or
// queried; an error from hook is the statement's.
type hookedConnector struct {
	driver.Connector
	hook func(step) error
}

func (c hookedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return hookedConn{Conn: conn, hook: c.hook}, nil
}

type hookedConn struct {
	driver.Conn
	hook func(step) error
}

func (c hookedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.hook(atPrepare); err != nil {
		return nil, err
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return hookedStmt{Stmt: st, hook: c.hook}, nil
}

type hookedStmt struct {
	driver.Stmt
	hook func(step) error
}

func (s hookedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.hook(atExec); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s hookedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.hook(atQuery); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// hookedStore returns two handles on one migrated SQLite database in a
// temporary file: hooked, whose statements run hook first, and plain.
func hookedStore(t *testing.T, hook func(step) error) (hooked, plain *sql.DB) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "latch.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)"
	plain, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	if err := migrations.Apply(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	inner, err := (&sqlite.SQLite{}).OpenConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	hooked = sql.OpenDB(hookedConnector{Connector: inner, hook: hook})
	t.Cleanup(func() { hooked.Close() })
	return hooked, plain
}
