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

// openDB opens a new, empty SQLite database for t.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestApplyIsIdempotent(t *testing.T) {
	db := openDB(t)
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

// TestExpiredRowsGoWithTheNextInsert checks migration 0011's triggers:
// inserting a row into a short-lived table drops the rows of that table
// expired by the new row's created_at (an intermediate session an hour
// after), and nothing else.
func TestExpiredRowsGoWithTheNextInsert(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if err := Apply(ctx, db); err != nil {
		t.Fatal(err)
	}
	const now = 1_000_000
	for _, tc := range []struct {
		table, key, insert string // insert takes the key, created_at, expires_at
		grace              int64
	}{
		{table: "oauth_states", key: "state_hash", insert: `INSERT INTO oauth_states (state_hash, browser_hash, provider, sealed,
			login_redirect_url, signup_redirect_url, created_at, expires_at) VALUES (?, 'b', 'p', 's', 'l', 'l', ?, ?)`},
		{table: "oauth_tokens", key: "token_hash", insert: `INSERT INTO oauth_tokens (token_hash, user_id, registration_id,
			credentials_version, sealed, created_at, expires_at) VALUES (?, 'u', 'r', 0, 's', ?, ?)`},
		{table: "oauth_attach_tokens", key: "token_hash", insert: `INSERT INTO oauth_attach_tokens (token_hash, user_id, provider,
			created_at, expires_at) VALUES (?, 'u', 'p', ?, ?)`},
		{table: "webauthn_challenges", key: "challenge_hash", insert: `INSERT INTO webauthn_challenges (challenge_hash, kind,
			user_id, domain, ceremony, authenticator_type, user_agent, created_at, expires_at) VALUES (?, 'k', 'u', 'd', '{}', '', '', ?, ?)`},
		{table: "intermediate_sessions", key: "token_hash", grace: 3600, insert: `INSERT INTO intermediate_sessions (token_hash,
			user_id, credentials_version, factors, duration_minutes, created_at, expires_at) VALUES (?, 'u', 0, '[]', 0, ?, ?)`},
	} {
		t.Run(tc.table, func(t *testing.T) {
			for _, r := range []struct {
				key       string
				expiresAt int64
			}{
				{"long-expired", now - tc.grace - 600},
				{"just-expired", now - tc.grace - 1},
				{"within-grace", now - tc.grace/2},
				{"live", now + 600},
			} {
				if r.key == "within-grace" && tc.grace == 0 {
					continue
				}
				// Created at 0: these inserts drop nothing themselves.
				if _, err := db.ExecContext(ctx, tc.insert, r.key, 0, r.expiresAt); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ExecContext(ctx, tc.insert, "new", now, now+300); err != nil {
				t.Fatal(err)
			}
			left := column(t, db, `SELECT `+tc.key+` FROM `+tc.table+` ORDER BY `+tc.key)
			want := []string{"live", "new"}
			if tc.grace > 0 {
				want = []string{"live", "new", "within-grace"}
			}
			if !reflect.DeepEqual(left, want) {
				t.Errorf("rows left %q, want %q", left, want)
			}
		})
	}
}

// TestSpentSendCountsGoWithTheNextInbox: an inbox's send count whose hour
// and gap have both passed goes when a new inbox is counted; one still in
// its hour, or sent to within the gap, stays.
func TestSpentSendCountsGoWithTheNextInbox(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if err := Apply(ctx, db); err != nil {
		t.Fatal(err)
	}
	const now = 1_000_000
	insert := `INSERT INTO mail_sends (email, window_at, sent, last_at) VALUES (?, ?, 1, ?)`
	for _, r := range []struct {
		email            string
		windowAt, lastAt int64
	}{
		{"spent@x", now - 3600, now - 3000},
		{"in-its-hour@x", now - 3599, now - 3000},
		{"sent-within-the-gap@x", now - 4000, now - 19},
	} {
		if _, err := db.ExecContext(ctx, insert, r.email, r.windowAt, r.lastAt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, insert, "new@x", now, now); err != nil {
		t.Fatal(err)
	}
	left := column(t, db, `SELECT email FROM mail_sends ORDER BY email`)
	if want := []string{"in-its-hour@x", "new@x", "sent-within-the-gap@x"}; !reflect.DeepEqual(left, want) {
		t.Errorf("rows left %q, want %q", left, want)
	}
}

// column returns the one text column of query's rows, in order.
func column(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
