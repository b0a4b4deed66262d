package migrations

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	_ "github.com/ncruces/go-sqlite3/driver"
)

func TestStatements(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{name: "two", in: "CREATE TABLE a (x);\nCREATE TABLE b (y);\n", want: []string{"CREATE TABLE a (x);", "CREATE TABLE b (y);"}},
		{name: "comments and blank lines", in: "-- c\n\nCREATE TABLE a (\n  x -- inline stays\n);\n", want: []string{"CREATE TABLE a (\n  x -- inline stays\n);"}},
		{name: "no final semicolon", in: "SELECT 1", want: []string{"SELECT 1"}},
		{name: "empty", in: "-- only\n", want: nil},
		{name: "trigger body", in: "CREATE TRIGGER t INSTEAD OF INSERT ON v\nBEGIN\n  INSERT INTO a VALUES (1);\n  INSERT INTO b VALUES (2);\nEND;\nCREATE TABLE c (z);\n",
			want: []string{"CREATE TRIGGER t INSTEAD OF INSERT ON v\nBEGIN\n  INSERT INTO a VALUES (1);\n  INSERT INTO b VALUES (2);\nEND;", "CREATE TABLE c (z);"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := statements(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for range 2 {
		if err := Apply(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	names, err := files()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM d1_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(names) || n == 0 {
		t.Fatalf("%d migrations recorded, %d files", n, len(names))
	}
	for _, table := range []string{"users", "passwords", "magic_links", "sessions"} {
		if _, err := db.Exec(`SELECT count(*) FROM ` + table); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}
