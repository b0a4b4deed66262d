package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/latchauth/latch/edge/internal/devvars"
	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/oauth"
	"github.com/latchauth/latch/wasm/sdk"
)

// Names of the settings in the file (see wrangler.toml).
const (
	keyProjectID = "LATCH_PROJECT_ID"
	keySecret    = "LATCH_PROJECT_SECRET"
	keySigning   = "LATCH_SIGNING_KEYS"
)

// The mail settings of a dev Worker: mail goes by the signed webhook to
// the dev mailbox `make dev` runs (latch-mailbox), which shows it on a web
// page. A file made before they existed gains them (see addMissing).
const (
	keyMail          = "LATCH_MAIL"
	keyWebhookURL    = "LATCH_MAIL_WEBHOOK_URL"
	keyWebhookSecret = "LATCH_MAIL_WEBHOOK_SECRET"
	keyMailFrom      = "LATCH_MAIL_FROM"
	keyRedirectURLs  = "LATCH_REDIRECT_URLS"
)

// keySecretBox is the key the Worker seals TOTP secrets under: 32 random
// bytes, unpadded base64url. A file made before TOTP gains it (see
// addMissing).
const keySecretBox = "LATCH_SECRET_BOX_KEY"

// newSecretBoxKey returns a fresh LATCH_SECRET_BOX_KEY value.
func newSecretBoxKey(random io.Reader) (string, error) {
	k, err := keys.NewSecretKey(random)
	if err != nil {
		return "", fmt.Errorf("latch-devvars: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(k), nil
}

// settingGroup is settings a file made before them gains together, under
// a comment saying what they are.
type settingGroup struct {
	comment  string
	settings [][2]string
}

// addable returns the settings addMissing adds to a file that lacks them,
// with fresh secrets, for the project projectID.
func addable(random io.Reader, projectID string) ([]settingGroup, error) {
	mail, err := devMail(random)
	if err != nil {
		return nil, err
	}
	box, err := newSecretBoxKey(random)
	if err != nil {
		return nil, err
	}
	return []settingGroup{
		{comment: "Mail to the dev mailbox (make dev); added by latch-devvars.", settings: mail},
		{comment: "The key TOTP secrets are sealed under; added by latch-devvars. Changing it makes enrolled TOTPs unusable.",
			settings: [][2]string{{keySecretBox, box}}},
		{comment: "The hosted login page, returning to the example origin (go run ./edge/cmd/latch-example-origin); added by latch-devvars.",
			settings: [][2]string{{keyLoginURL, devLoginURL}, {keyLoginReturnURLs, devOriginURL + "/"}}},
		{comment: "The surface Stytch's frontend SDKs call (/sdk/v1), for pages of the example origin; added by latch-devvars.",
			settings: [][2]string{{keyPublicToken, sdk.NewPublicToken(projectID)}, {keySDKOrigins, devSDKOrigins}}},
		{comment: "Passkeys from the example origin and the Worker's own login page, under localhost (an IP address is no relying party ID); added by latch-devvars.",
			settings: [][2]string{{keyWebAuthnOrigins, devWebAuthnOrigins}}},
	}, nil
}

// The dev SDK surface: a public token of the project, for pages of the
// example origin under both of its names.
const (
	keyPublicToken = "LATCH_PUBLIC_TOKEN"
	keySDKOrigins  = "LATCH_SDK_ORIGINS"
	devSDKOrigins  = devOriginURL + ",http://localhost:3000"
)

// The dev passkey origins: the example origin and the Worker, each under
// the name browsers accept as a relying party ID.
const (
	keyWebAuthnOrigins = "LATCH_WEBAUTHN_ORIGINS"
	devWebAuthnOrigins = "http://localhost:3000,http://localhost:8787"
)

// The dev login page: the Worker's /login, sending browsers back to the
// example origin on port 3000 of the same host (cookies are per host, not
// per port, so the origin sees the page's session cookies).
const (
	keyLoginURL        = "LATCH_LOGIN_URL"
	keyLoginReturnURLs = "LATCH_LOGIN_RETURN_URLS"
	devLoginURL        = "http://127.0.0.1:8787/login"
	devOriginURL       = "http://127.0.0.1:3000"
)

// devMail returns the dev mail settings, in file order, with a fresh
// webhook secret.
func devMail(random io.Reader) ([][2]string, error) {
	var secret [32]byte
	if _, err := io.ReadFull(random, secret[:]); err != nil {
		return nil, fmt.Errorf("latch-devvars: %w", err)
	}
	return [][2]string{
		{keyMail, "webhook"},
		{keyWebhookURL, "http://127.0.0.1:8025/webhook"},
		{keyWebhookSecret, hex.EncodeToString(secret[:])},
		{keyMailFrom, "Latch <login@localhost.test>"},
		{keyRedirectURLs, "http://localhost:3000/authenticate"},
	}, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("latch-devvars", flag.ContinueOnError)
	fl.SetOutput(stderr)
	file := fl.String("file", ".dev.vars", "path of the file to create if missing")
	show := fl.Bool("print", false, "print the project id, secret, public token, base URL and OAuth callback")
	baseURL := fl.String("base-url", "http://127.0.0.1:8787", "base URL to print with -print")
	printKeys := fl.Bool("print-keys", false, "print a fresh signing key set and touch no file")
	printBox := fl.Bool("print-secret-box-key", false, "print a fresh LATCH_SECRET_BOX_KEY and touch no file")
	rotate := fl.String("rotate-keys", "", "rotate the JWK set in this file: a new key signs, the keys that signed are retired now")
	mailboxURL := fl.String("mailbox-url", "", "with -print: the dev mailbox's web page, printed with the credentials")
	get := fl.String("get", "", "print the value of this setting of the file and nothing else")
	keep := fl.Duration("keep-retired", 366*24*time.Hour, "with -rotate-keys: drop keys retired longer ago than this (the longest session)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() != 0 {
		fmt.Fprintf(stderr, "latch-devvars: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if *rotate != "" {
		if err := rotateFile(*rotate, rand.Reader, time.Now(), *keep); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stderr, "latch-devvars: rotated %s; put it in LATCH_SIGNING_KEYS\n", *rotate)
		return 0
	}
	if *printKeys {
		set, err := keys.NewSet(rand.Reader, "test")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, string(set))
		return 0
	}
	if *printBox {
		k, err := newSecretBoxKey(rand.Reader)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, k)
		fmt.Fprintln(stderr, "latch-devvars: keep this key: losing or changing it makes every enrolled TOTP unusable")
		return 0
	}
	created, err := ensure(*file, rand.Reader)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if created {
		fmt.Fprintf(stderr, "latch-devvars: created %s\n", *file)
	} else if added, err := addMissing(*file, rand.Reader); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	} else if len(added) > 0 {
		fmt.Fprintf(stderr, "latch-devvars: added %s to %s\n", strings.Join(added, ", "), *file)
	}
	if *get != "" {
		vars, err := read(*file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		v, ok := vars[*get]
		if !ok {
			fmt.Fprintf(stderr, "latch-devvars: %s has no %s\n", *file, *get)
			return 1
		}
		fmt.Fprintln(stdout, v)
		return 0
	}
	if !*show {
		return 0
	}
	vars, err := read(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "Latch dev Worker\n  base URL:   %s\n  project id: %s\n  secret:     %s\n",
		*baseURL, vars[keyProjectID], vars[keySecret])
	if tok := vars[keyPublicToken]; tok != "" {
		fmt.Fprintf(stdout, "  public token: %s (the frontend SDK's; pages of %s)\n", tok, vars[keySDKOrigins])
	}
	printOAuth(stdout, stderr, *file, vars, *baseURL)
	if *mailboxURL != "" {
		fmt.Fprintf(stdout, "mailbox: %s (the mail the Worker sends: login codes and links)\n", *mailboxURL)
	}
	if u := vars[keyLoginURL]; u != "" {
		fmt.Fprintf(stdout, "login page: %s (example origin: go run ./edge/cmd/latch-example-origin, then open %s/)\n", u, devOriginURL)
	}
	return 0
}

// Social login's settings (edge/README.md, "Social login"): the
// providers are the developer's own, registered at each provider with
// the callback printOAuth shows; latch-devvars never writes them.
const (
	keyOAuthProviders = "LATCH_OAUTH_PROVIDERS"
	keyBaseURL        = "LATCH_BASE_URL"
	oauthCallbackPath = "/v1/oauth/callback"
)

// printOAuth shows, with -print, the OAuth callback to register at a
// provider (under LATCH_BASE_URL when the file sets it, else under
// baseURL, where make dev serves the Worker) and the providers the file
// configures, by name. A providers document that does not parse is
// reported on stderr in oauth.ParseProviders' words, which never quote a
// client secret; the Worker then answers as misconfigured.
func printOAuth(stdout, stderr io.Writer, file string, vars map[string]string, baseURL string) {
	base := strings.TrimSuffix(baseURL, "/")
	if b := strings.TrimSuffix(strings.TrimSpace(vars[keyBaseURL]), "/"); b != "" {
		base = b
	}
	callback := base + oauthCallbackPath
	doc, ok := vars[keyOAuthProviders]
	if !ok || strings.TrimSpace(doc) == "" {
		fmt.Fprintf(stdout, "  oauth callback: %s (register it at a provider, then put %s in %s: edge/README.md, \"Social login\")\n",
			callback, keyOAuthProviders, file)
		return
	}
	ps, err := oauth.ParseProviders([]byte(doc))
	if err != nil {
		fmt.Fprintf(stdout, "  oauth callback: %s\n", callback)
		fmt.Fprintf(stderr, "latch-devvars: %s: %s: %v\n", file, keyOAuthProviders, err)
		return
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	fmt.Fprintf(stdout, "  oauth callback: %s (register it at each provider: %s)\n", callback, strings.Join(names, ", "))
}

// ensure creates path with fresh credentials unless it exists; it reports
// whether it created it. The file is written with mode 0600 and O_EXCL, so
// an existing file (or one created concurrently) is never overwritten.
func ensure(path string, random io.Reader) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("latch-devvars: %w", err)
	}
	content, err := generate(random)
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("latch-devvars: %w", err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return false, fmt.Errorf("latch-devvars: %w", err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("latch-devvars: %w", err)
	}
	return true, nil
}

// generate returns the content of a new .dev.vars file.
func generate(random io.Reader) ([]byte, error) {
	p, err := keys.NewProject(random, "test")
	if err != nil {
		return nil, fmt.Errorf("latch-devvars: %w", err)
	}
	set, err := keys.MarshalSet(p.Keys)
	if err != nil {
		return nil, fmt.Errorf("latch-devvars: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("# Latch Worker settings for `wrangler dev`; made by latch-devvars. Keep private.\n")
	fmt.Fprintf(&b, "%s=%s\n", keyProjectID, p.ID)
	fmt.Fprintf(&b, "%s=%s\n", keySecret, p.Secret)
	// Single quotes: dotenv takes the JSON verbatim.
	fmt.Fprintf(&b, "%s='%s'\n", keySigning, set)
	groups, err := addable(random, p.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, kv := range g.settings {
			fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
		}
	}
	return b.Bytes(), nil
}

// addMissing appends to path the dev mail settings, the secret box key,
// and the login page's and the SDK surface's settings it lacks, keeping
// every line it has (its credentials above all), and returns the names it
// added. The file is replaced whole (0600, synced), never left
// half-written.
func addMissing(path string, random io.Reader) ([]string, error) {
	vars, err := read(path)
	if err != nil {
		return nil, err
	}
	groups, err := addable(random, vars[keyProjectID])
	if err != nil {
		return nil, err
	}
	var added []string
	var b bytes.Buffer
	for _, g := range groups {
		header := false
		for _, kv := range g.settings {
			if _, ok := vars[kv[0]]; ok {
				continue
			}
			if !header {
				fmt.Fprintf(&b, "# %s\n", g.comment)
				header = true
			}
			added = append(added, kv[0])
			fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("latch-devvars: %w", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	if err := replaceFile(path, append(data, b.Bytes()...)); err != nil {
		return nil, err
	}
	return added, nil
}

// rotateFile replaces the JWK set in path with keys.Rotate's: a new key
// first, the keys that signed until now retired at now, keys retired more
// than keep ago left out. The file is replaced whole (0600, synced), never
// left half-written.
func rotateFile(path string, random io.Reader, now time.Time, keep time.Duration) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("latch-devvars: %w", err)
	}
	set, err := keys.ParseSet(data)
	if err != nil {
		return fmt.Errorf("latch-devvars: %s: %w", path, err)
	}
	env := "test"
	if strings.HasPrefix(set[0].KID, "jwk-live-") {
		env = "live"
	}
	rotated, err := keys.Rotate(set, random, env, now.Unix(), now.Add(-keep).Unix())
	if err != nil {
		return fmt.Errorf("latch-devvars: %w", err)
	}
	out, err := keys.MarshalSet(rotated)
	if err != nil {
		return fmt.Errorf("latch-devvars: %w", err)
	}
	return replaceFile(path, append(out, '\n'))
}

// replaceFile writes data to path through a synced temporary file
// renamed over it. The temporary file is a new one, made 0600 by
// os.CreateTemp: never a file or a link someone left in the directory.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("latch-devvars: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("latch-devvars: %w", err)
	}
	return nil
}

// read parses the file at path (see devvars.Read).
func read(path string) (map[string]string, error) {
	vars, err := devvars.Read(path)
	if err != nil {
		return nil, fmt.Errorf("latch-devvars: %w", err)
	}
	return vars, nil
}
