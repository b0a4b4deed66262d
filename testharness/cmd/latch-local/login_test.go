package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunLoginPage: -login-return-url serves the hosted login page at
// /login, printed in the banner; without it /login is the API's 404.
func TestRunLoginPage(t *testing.T) {
	dir := t.TempDir()
	stdout := &syncBuffer{}
	f, stop := startOut(t, stdout, "-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off",
		"-login-return-url", "http://127.0.0.1:3000/", "-project-name", "Acme")
	base := f["latch-local: serving"]
	if login := regexp.MustCompile(`(?m)^login:\s+(\S+)$`).FindStringSubmatch(stdout.String()); login == nil || login[1] != base+"/login" {
		t.Errorf("banner %q does not name the login page %s/login", stdout.String(), base)
	}
	res, err := http.Get(base + "/login?return_to=http://127.0.0.1:3000/account")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>Sign in · Acme</title>") ||
		!strings.Contains(string(body), `value="http://127.0.0.1:3000/account"`) {
		t.Errorf("GET /login: %d %s", res.StatusCode, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	f, stop = start(t, "-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off")
	defer stop()
	if status, _ := request(t, f, http.MethodGet, "/login", ""); status != http.StatusNotFound {
		t.Errorf("without -login-return-url, GET /login answered %d, want the API's 404", status)
	}
}
