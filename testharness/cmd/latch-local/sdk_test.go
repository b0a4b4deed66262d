package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRunAddsPublicToken: a credentials.json from before the SDK surface
// gains a public token on the next start, keeps every member it had and
// its mode, and keeps the token from then on.
func TestRunAddsPublicToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	const old = `{"project_id": "project-test-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11", "secret": "secret-test-mine", "note": "kept"}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	f, stop := start(t, "-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off")
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	cred := readCredentials(t, path)
	token, _ := cred["public_token"].(string)
	if !strings.HasPrefix(token, "public-token-test-") || f["public_token:"] != token {
		t.Errorf("public_token %q in the file, %q in the banner", token, f["public_token:"])
	}
	if cred["project_id"] != "project-test-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11" || cred["secret"] != "secret-test-mine" || cred["note"] != "kept" {
		t.Errorf("credentials.json lost members: %v", cred)
	}
	if f["project_id:"] != cred["project_id"] || f["secret:"] != cred["secret"] {
		t.Errorf("banner %v, want the file's credentials", f)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json after the rewrite: %v", err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}

	f, stop = start(t, "-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off")
	defer stop()
	if f["public_token:"] != token {
		t.Errorf("public_token after a restart %q, want %q", f["public_token:"], token)
	}
}

// TestRunRefusesForeignPublicToken: a public_token in credentials.json
// that is not of the project's environment stops the start, naming the
// file.
func TestRunRefusesForeignPublicToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	const cred = `{"project_id": "project-test-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11", "secret": "secret-test-mine",
		"public_token": "public-token-live-9b1d0a52-3c4e-4f7a-8e21-6d5c4b3a2f10"}`
	if err := os.WriteFile(path, []byte(cred), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "off"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr.String())
	}
	if want := "(public_token in " + path + ")"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q does not say %q", stderr.String(), want)
	}
}

// TestRunSDKPreflight: the surface answers a browser's preflight from an
// -sdk-origin, echoing the origin, and not from another origin.
func TestRunSDKPreflight(t *testing.T) {
	f, stop := start(t, "-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db"), "-mailbox", "off",
		"-sdk-origin", "https://App.example.com", "-sdk-origin", "http://127.0.0.1:5173")
	defer stop()
	preflight := func(origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodOptions, f["latch-local: serving"]+"/sdk/v1/projects/bootstrap/"+f["public_token:"], nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodGet)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, origin := range []string{"https://app.example.com", "http://127.0.0.1:5173"} {
		if res := preflight(origin); res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q", origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	if res := preflight("http://localhost:3000"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from an origin not given: Access-Control-Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestSDKFlags(t *testing.T) {
	tests := []struct {
		name    string
		origins []string
		want    []string
		err     string
	}{
		{name: "default", want: []string{"http://127.0.0.1:3000", "http://localhost:3000"}},
		{name: "canonical", origins: []string{"https://App.Example.com/", "http://[::1]:8080"}, want: []string{"https://app.example.com", "http://[::1]:8080"}},
		{name: "query", origins: []string{"https://app.example.com?x=1"}, err: `-sdk-origin: origin "https://app.example.com?x=1" is not scheme://host[:port]`},
		{name: "no host", origins: []string{"https://"}, err: `-sdk-origin: origin "https://" is not scheme://host[:port]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sdkFlags{origins: tt.origins}
			got, err := f.check()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("check: %v, want %q", err, tt.err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("origins %q, want %q", got, tt.want)
			}
		})
	}
}
