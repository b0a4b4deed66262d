package bridge

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/latchauth/latch/wasm/guest/wire"
)

// Connector returns a database/sql connector that runs every statement in
// the host through call: sql.OpenDB(bridge.Connector(call)).
//
// Arguments reach the host as SQLite storage classes: nil, int64, float64,
// string, []byte. Other Go types go through driver.DefaultParameterConverter
// first; bool becomes 0 or 1 and time.Time an RFC 3339 string with
// nanoseconds, in UTC. A query's rows arrive in one frame, so rows never
// hold a host connection open.
func Connector(call Call) driver.Connector { return connector{call: call} }

type connector struct{ call Call }

func (c connector) Connect(context.Context) (driver.Conn, error) { return &conn{call: c.call}, nil }

func (c connector) Driver() driver.Driver { return drv{} }

type drv struct{}

func (drv) Open(string) (driver.Conn, error) {
	return nil, errors.New("bridge: open with sql.OpenDB(bridge.Connector(call))")
}

type conn struct{ call Call }

var (
	_ driver.ExecerContext     = (*conn)(nil)
	_ driver.QueryerContext    = (*conn)(nil)
	_ driver.NamedValueChecker = (*conn)(nil)
)

func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c: c, sql: query}, nil }

func (c *conn) Close() error { return nil }

func (c *conn) Begin() (driver.Tx, error) { return nil, ErrNoTx }

// CheckNamedValue narrows arguments to what the wire carries.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		return fmt.Errorf("%w: %q", ErrNamedArgs, nv.Name)
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return fmt.Errorf("bridge: argument %d: %w", nv.Ordinal, err)
	}
	switch x := v.(type) {
	case bool:
		v = int64(0)
		if x {
			v = int64(1)
		}
	case time.Time:
		v = x.UTC().Format(time.RFC3339Nano)
	}
	nv.Value = v
	return nil
}

func (c *conn) run(ctx context.Context, query bool, sql string, args []driver.NamedValue) (*wire.Result, error) {
	s := &wire.Stmt{Query: query, SQL: sql, Args: make([]any, len(args))}
	for i, a := range args {
		s.Args[i] = a.Value
	}
	frame, err := wire.AppendStmt(nil, s)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	answer, err := c.call(ctx, frame)
	if err != nil {
		return nil, fmt.Errorf("bridge: call: %w", err)
	}
	res, err := wire.ParseResult(answer)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	return res, nil
}

func (c *conn) ExecContext(ctx context.Context, sql string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.run(ctx, false, sql, args)
	if err != nil {
		return nil, err
	}
	return result{affected: res.RowsAffected, lastID: res.LastInsertID}, nil
}

func (c *conn) QueryContext(ctx context.Context, sql string, args []driver.NamedValue) (driver.Rows, error) {
	res, err := c.run(ctx, true, sql, args)
	if err != nil {
		return nil, err
	}
	return &rows{cols: res.Columns, data: res.Rows}, nil
}

type stmt struct {
	c   *conn
	sql string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.sql, named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.sql, named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.sql, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.sql, args)
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

type result struct{ affected, lastID int64 }

func (r result) LastInsertId() (int64, error) { return r.lastID, nil }
func (r result) RowsAffected() (int64, error) { return r.affected, nil }

type rows struct {
	cols []string
	data [][]any
}

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { r.data = nil; return nil }

func (r *rows) Next(dest []driver.Value) error {
	if len(r.data) == 0 {
		return io.EOF
	}
	for i, v := range r.data[0] {
		dest[i] = v
	}
	r.data = r.data[1:]
	return nil
}
