package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/sdk"
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
	for k, want := range map[string]string{keyMail: "webhook", keyWebhookURL: "http://127.0.0.1:8025/webhook",
		keyRedirectURLs: "http://localhost:3000/authenticate"} {
		if vars[k] != want {
			t.Errorf("%s = %q, want %q", k, vars[k], want)
		}
	}
	if k, err := base64.RawURLEncoding.DecodeString(vars[keySecretBox]); err != nil || len(k) != keys.SecretKeySize {
		t.Errorf("%s = %q: %d bytes, %v", keySecretBox, vars[keySecretBox], len(k), err)
	}
	if strings.Contains(out.String(), vars[keySecretBox]) {
		t.Error("-print output shows the secret box key")
	}
	if len(vars[keyWebhookSecret]) < 32 || vars[keyMailFrom] == "" {
		t.Errorf("webhook secret %d bytes, from %q", len(vars[keyWebhookSecret]), vars[keyMailFrom])
	}
	if strings.Contains(out.String(), vars[keyWebhookSecret]) {
		t.Error("-print output shows the webhook secret")
	}
	if tok := vars[keyPublicToken]; !strings.HasPrefix(tok, "public-token-test-") || len(tok) != len("public-token-test-")+36 {
		t.Errorf("%s = %q", keyPublicToken, tok)
	}
	if vars[keySDKOrigins] != "http://127.0.0.1:3000,http://localhost:3000" {
		t.Errorf("%s = %q", keySDKOrigins, vars[keySDKOrigins])
	}
	for _, want := range []string{id, secret, "http://127.0.0.1:9999", "public token: " + vars[keyPublicToken]} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-print output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), `"d"`) {
		t.Error("-print output shows private key material")
	}
}

// TestRunNeverOverwrites checks that an existing file keeps its lines: one
// from before mail gains the mail settings and the secret box key,
// appended, on the next run, and a file that has them is left byte for
// byte.
func TestRunNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	const existing = "LATCH_PROJECT_ID=project-test-mine\nLATCH_PROJECT_SECRET=mine\nLATCH_MAIL_FROM=me@example.com"
	if err := os.WriteFile(path, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path, "-print", "-mailbox-url", "http://127.0.0.1:8025"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(got), existing+"\n") {
		t.Errorf("file's existing lines changed: %q", got)
	}
	vars, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	if vars[keyMail] != "webhook" || len(vars[keyWebhookSecret]) < 32 || vars[keyMailFrom] != "me@example.com" {
		t.Errorf("mail settings after the run: %v", vars)
	}
	if k, err := base64.RawURLEncoding.DecodeString(vars[keySecretBox]); err != nil || len(k) != keys.SecretKeySize {
		t.Errorf("%s after the run: %q", keySecretBox, vars[keySecretBox])
	}
	if !strings.HasPrefix(vars[keyPublicToken], "public-token-test-") || vars[keySDKOrigins] != devSDKOrigins {
		t.Errorf("SDK settings after the run: %q, %q", vars[keyPublicToken], vars[keySDKOrigins])
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	for _, want := range []string{"project-test-mine", "mailbox: http://127.0.0.1:8025", "public token: " + vars[keyPublicToken]} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-print shows %q, want %q", out.String(), want)
		}
	}
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut.String())
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Errorf("second run changed the file to %q", again)
	}
	out.Reset()
	if code := run([]string{"-file", path, "-get", keyWebhookSecret}, &out, &errOut); code != 0 || strings.TrimSpace(out.String()) != vars[keyWebhookSecret] {
		t.Errorf("-get %s: exit %d, %q", keyWebhookSecret, code, out.String())
	}
	if code := run([]string{"-file", path, "-get", "LATCH_NOPE"}, &out, &errOut); code != 1 {
		t.Errorf("-get of a missing setting: exit %d, want 1", code)
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

// TestRunAddsSecretBoxKey checks that a file from before TOTP, which has
// the mail settings, gains only the secret box key, and keeps it after.
// writeWithout writes a generated .dev.vars without key's line to path
// and returns what it wrote.
func writeWithout(t *testing.T, path, key string) string {
	t.Helper()
	content, err := generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(string(content), "\n") {
		if !strings.HasPrefix(l, key+"=") {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.Join(kept, "")
}

func TestRunAddsSecretBoxKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	before := writeWithout(t, path, keySecretBox)
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if want := "added " + keySecretBox + " to"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	got, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(got), before) {
		t.Errorf("file's existing lines changed: %q", got)
	}
	vars, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := base64.RawURLEncoding.DecodeString(vars[keySecretBox]); err != nil || len(k) != keys.SecretKeySize {
		t.Errorf("%s = %q", keySecretBox, vars[keySecretBox])
	}
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut.String())
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Errorf("second run changed the file to %q", again)
	}
}

func TestRunPrintSecretBoxKey(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"-print-secret-box-key"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	k, err := base64.RawURLEncoding.DecodeString(strings.TrimSuffix(out.String(), "\n"))
	if err != nil || len(k) != keys.SecretKeySize {
		t.Errorf("printed key %q: %d bytes, %v", out.String(), len(k), err)
	}
	if _, err := keys.NewSecretBox(k, rand.Reader); err != nil {
		t.Errorf("printed key makes no SecretBox: %v", err)
	}
	if !strings.Contains(errOut.String(), "unusable") {
		t.Errorf("stderr %q does not warn that a lost key makes TOTPs unusable", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, ".dev.vars")); err == nil {
		t.Error("-print-secret-box-key created .dev.vars")
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

func TestRunRotatesKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing-keys.json")
	var out, errOut bytes.Buffer
	if code := run([]string{"-print-keys"}, &out, &errOut); code != 0 {
		t.Fatalf("print-keys: exit %d: %s", code, errOut.String())
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := keys.ParseSet(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		if code := run([]string{"-rotate-keys", path}, &out, &errOut); code != 0 {
			t.Fatalf("rotate: exit %d: %s", code, errOut.String())
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := keys.ParseSet(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 3 || set[0].RetiredAt != 0 || set[1].RetiredAt == 0 || set[2].RetiredAt == 0 || set[2].KID != first[0].KID {
		t.Fatalf("after two rotations: %d keys, retired %d %d %d", len(set), set[0].RetiredAt, set[1].RetiredAt, set[2].RetiredAt)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode().Perm(), err)
	}
	// Two days on, keys retired longer ago than a day leave the set; the
	// one that signed until then is kept, retired.
	if err := rotateFile(path, rand.Reader, time.Now().Add(48*time.Hour), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if next, err := keys.ParseSet(data); err != nil || len(next) != 2 || next[1].KID != set[0].KID {
		t.Fatalf("after dropping old keys: %d keys, %v", len(next), err)
	}
}

// TestDevLoginPage: a fresh file turns the login page on, returning to the
// example origin, with settings the page accepts.
func TestDevLoginPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path, "-print"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	vars, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	if vars[keyLoginURL] != devLoginURL || vars[keyLoginReturnURLs] != devOriginURL+"/" {
		t.Fatalf("login settings %q, %q", vars[keyLoginURL], vars[keyLoginReturnURLs])
	}
	_, err = loginpage.New(loginpage.Config{API: http.NotFoundHandler(), ProjectID: vars[keyProjectID], Secret: vars[keySecret],
		URL: vars[keyLoginURL], ReturnURLs: []string{vars[keyLoginReturnURLs]}})
	if err != nil {
		t.Errorf("the page refuses the dev settings: %v", err)
	}
	if !strings.Contains(out.String(), "login page: "+devLoginURL) {
		t.Errorf("-print does not show the login page: %s", out.String())
	}
}

// TestDevSDK: a fresh file turns the SDK surface on for the example
// origin, with settings the surface accepts; a file from before it gains
// only the surface's settings, a token of its project's environment, and
// keeps them after.
func TestDevSDK(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	vars, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdk.New(sdk.Config{API: http.NotFoundHandler(), ProjectID: vars[keyProjectID], Secret: vars[keySecret],
		PublicToken: vars[keyPublicToken], Origins: strings.Split(vars[keySDKOrigins], ",")})
	if err != nil {
		t.Errorf("the surface refuses the dev settings: %v", err)
	}

	const liveID = "project-live-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11"
	content, err := generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var before []string
	for _, l := range strings.SplitAfter(string(content), "\n") {
		switch {
		case strings.HasPrefix(l, keyProjectID+"="):
			before = append(before, keyProjectID+"="+liveID+"\n")
		case !strings.HasPrefix(l, keyPublicToken+"=") && !strings.HasPrefix(l, keySDKOrigins+"="):
			before = append(before, l)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(before, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if want := "added " + keyPublicToken + ", " + keySDKOrigins + " to"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	got, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(got), strings.Join(before, "")) {
		t.Errorf("file's existing lines changed: %q", got)
	}
	if vars, err = read(path); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(vars[keyPublicToken], "public-token-live-") || vars[keySDKOrigins] != devSDKOrigins {
		t.Errorf("added %s = %q, %s = %q", keyPublicToken, vars[keyPublicToken], keySDKOrigins, vars[keySDKOrigins])
	}
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut.String())
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Errorf("second run changed the file to %q", again)
	}
}

// TestPrintOAuthCallback checks the OAuth callback -print shows beside the
// public token: under the base URL make dev serves on, or LATCH_BASE_URL;
// with the providers the file names, never their secrets.
func TestPrintOAuthCallback(t *testing.T) {
	const secret = "gh-s3cr3t-of-the-provider"
	for _, c := range []struct {
		name      string
		extra     string // lines added to a fresh file
		wantOut   string
		wantErr   string // on stderr; "" for nothing about the providers
		forbidden string // never printed
	}{
		{name: "no providers", wantOut: `  oauth callback: http://127.0.0.1:8787/v1/oauth/callback (register it at a provider, then put LATCH_OAUTH_PROVIDERS in `},
		{name: "providers", extra: `LATCH_OAUTH_PROVIDERS='[{"provider":"github","client_id":"Iv1.x","client_secret":"` + secret + `"},` +
			`{"provider":"google","client_id":"y","client_secret":"` + secret + `"}]'` + "\n",
			wantOut: "  oauth callback: http://127.0.0.1:8787/v1/oauth/callback (register it at each provider: github, google)\n", forbidden: secret},
		{name: "a base URL", extra: "LATCH_BASE_URL=https://auth.example.com/\n",
			wantOut: "  oauth callback: https://auth.example.com/v1/oauth/callback ("},
		{name: "a broken document", extra: `LATCH_OAUTH_PROVIDERS='[{"provider":"gitlab","client_id":"x","client_secret":"` + secret + `"}]'` + "\n",
			wantOut: "  oauth callback: http://127.0.0.1:8787/v1/oauth/callback\n",
			wantErr: `LATCH_OAUTH_PROVIDERS: oauth: invalid provider configuration: provider 1: provider "gitlab" is not one of google, github, oidc`, forbidden: secret},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".dev.vars")
			var out, errOut bytes.Buffer
			if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(c.extra); err != nil {
				t.Fatal(err)
			}
			f.Close()
			out.Reset()
			errOut.Reset()
			if code := run([]string{"-file", path, "-print", "-base-url", "http://127.0.0.1:8787"}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("-print shows\n%s\nwant a line %q", out.String(), c.wantOut)
			}
			// Beside the public token.
			lines := strings.Split(out.String(), "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "  oauth callback: ") && (i == 0 || !strings.HasPrefix(lines[i-1], "  public token: ")) {
					t.Errorf("the callback is not printed right after the public token:\n%s", out.String())
				}
			}
			switch {
			case c.wantErr == "" && errOut.Len() > 0:
				t.Errorf("stderr %q", errOut.String())
			case c.wantErr != "" && !strings.Contains(errOut.String(), c.wantErr):
				t.Errorf("stderr %q, want %q", errOut.String(), c.wantErr)
			}
			if c.forbidden != "" && strings.Contains(out.String()+errOut.String(), c.forbidden) {
				t.Error("a client secret is printed")
			}
		})
	}
}

// TestRunRewritesThroughANewFile: adding a missing setting rewrites the
// secrets file through a temporary file of its own, so a world-readable
// file or a link someone left at the old temporary name neither leaks the
// secrets nor gets them written through it; the result is 0600.
func TestRunRewritesThroughANewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".dev.vars")
	writeWithout(t, path, keySecretBox)
	elsewhere := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(elsewhere, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-file", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if leaked, _ := os.ReadFile(elsewhere); len(leaked) != 0 {
		t.Errorf("the secrets were written through the link left at %s.tmp", path)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s after the rewrite: %v %v, want a regular 0600 file", path, fi.Mode(), err)
	}
	if vars, err := read(path); err != nil || vars[keySecretBox] == "" {
		t.Errorf("the rewritten file: %v %v", vars[keySecretBox], err)
	}
}
