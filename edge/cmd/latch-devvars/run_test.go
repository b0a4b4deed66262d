package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/keys"
)

func TestRunCreatesDevVars(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path, "-print", "-base-url", "http://127.0.0.1:9999"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	vars, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	id, secret := vars[keyProjectID], vars[keySecret]
	if !strings.HasPrefix(id, "project-test-") || len(id) != len("project-test-")+36 {
		t.Errorf("project id %q", id)
	}
	if !strings.HasPrefix(secret, "secret-test-") || len(secret) < len("secret-test-")+40 {
		t.Errorf("secret %q", secret)
	}
	set, err := keys.ParseSet([]byte(vars[keySigning]))
	if err != nil || len(set) != 1 || !strings.HasPrefix(set[0].KID, "jwk-test-") {
		t.Errorf("signing keys: %v, %d keys", err, len(set))
	}
	for _, want := range []string{id, secret, "http://127.0.0.1:9999"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-print output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), `"d"`) {
		t.Error("-print output shows private key material")
	}
}

func TestRunNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	const existing = "LATCH_PROJECT_ID=project-test-mine\nLATCH_PROJECT_SECRET=mine\n"
	if err := os.WriteFile(path, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path, "-print"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got, _ := os.ReadFile(path)
	if string(got) != existing {
		t.Errorf("file changed to %q", got)
	}
	if !strings.Contains(out.String(), "project-test-mine") {
		t.Errorf("-print shows %q, want the existing project", out.String())
	}
}

func TestRunPrintKeys(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"-print-keys"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := keys.ParseSet(bytes.TrimSpace(out.Bytes())); err != nil {
		t.Errorf("printed key set does not parse: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".dev.vars")); err == nil {
		t.Error("-print-keys created .dev.vars")
	}
}

func TestRunBadArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{name: "unknown flag", args: []string{"-nope"}},
		{name: "stray argument", args: []string{"extra"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(c.args, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
		})
	}
}
