package testharness

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"
	_ "github.com/ncruces/go-sqlite3/vfs/memdb"

	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/migrations"
)

// openDB opens the SQLite store and applies the Worker's migrations. An
// empty path gives a private in-memory database. Foreign keys are on, as
// they are on D1.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	pragmas := url.Values{"_pragma": {"busy_timeout(10000)", "foreign_keys(1)"}}
	var dsn string
	if path == "" {
		// memdb shares one in-memory database among the pool's
		// connections by name; one connection is enough and rules out
		// SQLITE_BUSY between them.
		pragmas.Set("vfs", "memdb")
		dsn = "file:/latch-" + uuid.NewString() + ".db?" + pragmas.Encode()
	} else {
		pragmas.Add("_pragma", "journal_mode(wal)")
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas.Encode()
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("testharness: open store: %w", err)
	}
	if path == "" {
		db.SetMaxOpenConns(1)
	}
	if err := migrations.Apply(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("testharness: migrate store: %w", err)
	}
	return db, nil
}

// runStmt runs one statement from the guest. Rows are read in full, so no
// connection stays busy after it returns.
func runStmt(ctx context.Context, db *sql.DB, s *wire.Stmt) (*wire.Result, error) {
	if !s.Query {
		res, err := db.ExecContext(ctx, s.SQL, s.Args...)
		if err != nil {
			return nil, err
		}
		out := &wire.Result{}
		out.RowsAffected, _ = res.RowsAffected()
		out.LastInsertID, _ = res.LastInsertId()
		return out, nil
	}
	rows, err := db.QueryContext(ctx, s.SQL, s.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := &wire.Result{Columns: cols}
	ptrs := make([]any, len(cols))
	for rows.Next() {
		row := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range row {
			row[i] = storageClass(v)
		}
		out.Rows = append(out.Rows, row)
	}
	return out, rows.Err()
}

// storageClass maps what the driver scanned to the wire's SQLite storage
// classes.
func storageClass(v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}
