//go:build !js

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWranglerToml checks the settings `make dev` and `wrangler deploy`
// depend on, which the workerd tests (running a generated config) do not
// read themselves.
func TestWranglerToml(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		`name = "latch"`,
		`main = "edge/build/worker.mjs"`,
		`command = "make build"`,
		`binding = "DB"`,
		`database_name = "latch"`,
		`migrations_dir = "wasm/migrations"`,
		`type = "CompiledWasm"`,
		`[[send_email]]`,
		`name = "MAIL"`,
		// The revocation feed's object (writeConfig adds the same).
		`[[durable_objects.bindings]]`,
		`name = "REVOCATIONS"`,
		`class_name = "RevocationFeed"`,
		`new_sqlite_classes = ["RevocationFeed"]`,
	} {
		if !lines[want] {
			t.Errorf("wrangler.toml lacks the line %s", want)
		}
	}
	if compatDate.Find(data) == nil {
		t.Error("wrangler.toml has no compatibility_date")
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), "BUILD    := edge/build") || !strings.Contains(string(makefile), "$(BUILD)/worker.mjs") {
		t.Error("Makefile no longer builds into edge/build, where wrangler.toml's main points")
	}
	// make dev's mailbox is where .dev.vars (latch-devvars) sends the mail.
	if !strings.Contains(string(makefile), "MAILBOX  := 127.0.0.1:8025") || !strings.Contains(string(makefile), "./testharness/cmd/latch-mailbox") {
		t.Error("Makefile's dev mailbox is not on 127.0.0.1:8025, where latch-devvars points LATCH_MAIL_WEBHOOK_URL")
	}
	if _, err := os.Stat(filepath.Join(root, "wasm", "migrations", "0001_init.sql")); err != nil {
		t.Errorf("migrations_dir has no 0001_init.sql: %v", err)
	}
}

// TestWranglerTomlParses has wrangler itself read wrangler.toml (a
// command that parses the config and builds nothing), so the file
// `make dev` and a deploy use is valid TOML wrangler accepts; the e2e
// Workers run from configs of their own.
func TestWranglerTomlParses(t *testing.T) {
	RequireWrangler(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(root, "node_modules", ".bin", "wrangler"), "d1", "migrations", "list", "DB", "--local",
		"--persist-to", dir, "-c", filepath.Join(root, "wrangler.toml"))
	cmd.Dir, cmd.Env = dir, wranglerEnv(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wrangler does not accept wrangler.toml: %v\n%s", err, out)
	}
}
