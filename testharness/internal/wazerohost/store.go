package wazerohost

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/migrations"
)

// openDB opens the SQLite store and applies the Worker's migrations. An
// empty path gives a private in-memory database in the memdb VFS, which a
// program links by importing github.com/ncruces/go-sqlite3/vfs/memdb:
// package testharness does, this package does not (memdb imports
// testing), so without it an in-memory store is a config error. Foreign
// keys are on, as they are on D1. A file store runs in WAL mode with synchronous FULL
// (synchronous overrides it, for benchmarks) and its files are private;
// see RATIONALE.md, "Why synchronous=FULL and private files?".
func openDB(ctx context.Context, path, synchronous string) (*sql.DB, error) {
	pragmas := url.Values{"_pragma": {"busy_timeout(10000)", "foreign_keys(1)"}}
	var dsn string
	var created []string
	var err error
	if path == "" {
		if vfs.Find("memdb") == nil {
			return nil, fmt.Errorf("%w: an in-memory store (no DBPath) needs the memdb VFS: import github.com/ncruces/go-sqlite3/vfs/memdb", ErrConfig)
		}
		// memdb shares one in-memory database among the pool's
		// connections by name; one connection is enough and rules out
		// SQLITE_BUSY between them.
		pragmas.Set("vfs", "memdb")
		dsn = "file:/latch-" + uuid.NewString() + ".db?" + pragmas.Encode()
	} else {
		if synchronous == "" {
			synchronous = "full"
		}
		if created, err = createPrivate(path, path+"-wal", path+"-shm"); err != nil {
			return nil, fmt.Errorf("testharness: create store: %w", err)
		}
		pragmas.Add("_pragma", "journal_mode(wal)")
		pragmas.Add("_pragma", "synchronous("+synchronous+")")
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas.Encode()
	}
	db, err := driver.Open(dsn, func(c *sqlite3.Conn) error {
		if path == "" {
			return nil
		}
		// Keep the -wal and -shm files when the last connection closes,
		// so they keep the mode createPrivate gave them rather than
		// being made again with the VFS's 0644.
		_, err := c.FileControl("main", sqlite3.FCNTL_PERSIST_WAL, true)
		return err
	})
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
	// SQLite deletes a WAL file beside an empty database and makes it
	// again (0644) on the first write; until then it holds nothing but
	// the schema. Put back the mode of the files created here.
	for _, p := range created {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("testharness: create store: %w", err)
		}
	}
	return db, nil
}

// createPrivate creates those of paths that do not exist yet, empty and
// with mode 0600, syncs their directory if it created any, and returns
// the ones it created. SQLite takes an empty database, WAL and
// shared-memory file as new ones. Existing files keep their mode.
func createPrivate(paths ...string) ([]string, error) {
	var created []string
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return created, err
		}
		created = append(created, p)
		if err := f.Close(); err != nil {
			return created, err
		}
	}
	if len(created) == 0 {
		return nil, nil
	}
	return created, syncDir(filepath.Dir(paths[0]))
}

// syncDir makes the creation of files in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
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
