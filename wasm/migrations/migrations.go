// Package migrations holds Latch's schema as numbered SQL files. The Worker
// applies them with `wrangler d1 migrations apply` (wrangler.toml names this
// directory as migrations_dir); Go hosts apply the same files with Apply.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.sql
var migrationFS embed.FS

// files returns the migration files in the order they apply.
func files() ([]string, error) {
	names, err := fs.Glob(migrationFS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Apply runs every migration not yet recorded in the d1_migrations table,
// the same bookkeeping table wrangler keeps, so a database migrated by one
// tool is understood by the other.
func Apply(ctx context.Context, db *sql.DB) error {
	const create = `CREATE TABLE IF NOT EXISTS d1_migrations (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	names, err := files()
	if err != nil {
		return err
	}
	for _, name := range names {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM d1_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("migrations: %s: %w", name, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		for _, stmt := range statements(string(body)) {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrations: %s: %w", name, err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO d1_migrations (name) VALUES (?)`, name); err != nil {
			return fmt.Errorf("migrations: %s: %w", name, err)
		}
	}
	return nil
}

// statements splits a migration file into statements at semicolons that end
// a line, dropping comment lines; a CREATE TRIGGER runs to the line "END;"
// that closes its body. The schema files use no semicolons inside literals,
// which keeps this simple.
func statements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		inTrigger := strings.HasPrefix(strings.ToUpper(strings.TrimSpace(cur.String())), "CREATE TRIGGER")
		if strings.HasSuffix(trimmed, ";") && (!inTrigger || strings.EqualFold(trimmed, "END;")) {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
