// Command latch-local runs Latch on one machine with Go alone: the engine
// under wazero (testharness/internal/wazerohost, the host of package
// testharness), a SQLite file for the store, and credentials and signing
// keys created on first run.
//
//	go run ./testharness/cmd/latch-local [-port 8788] [-db .latch/latch.db] [-wasm guest.wasm]
//		[-oauth-providers providers.json] [-base-url http://127.0.0.1:8788]
//
// Mail (magic links, one-time codes, reset links) goes through the
// transport the flags name: -smtp host:port (with -smtp-user and the
// password in $LATCH_SMTP_PASSWORD, -smtp-require-tls) or -webhook-url
// (the secret in $LATCH_MAIL_WEBHOOK_SECRET). With neither, latch-local
// runs the dev mailbox: an SMTP server on loopback that the engine
// delivers to, and a page showing what arrived on -mailbox
// (127.0.0.1:8025; an address off loopback only with -mailbox-public, as
// the page shows every mailed code and link). -mail-from, -project-name,
// -redirect-url (repeatable) and -mail-templates shape the messages.
//
// Passkey and security key ceremonies (/v1/webauthn/...) may come from the
// -webauthn-origin origins (repeatable; http://localhost:3000 when none is
// given, relying party ID localhost).
//
// The surface Stytch's frontend SDKs call, /sdk/v1, is served to pages on
// the -sdk-origin origins (repeatable; http://127.0.0.1:3000 and
// http://localhost:3000 when none is given), under the public token
// printed with the credentials.
//
// Social login is on with -oauth-providers FILE: the providers as a JSON
// list (oauth.ParseProviders; README.md, "Social login"). The file holds
// the providers' client secrets, so one that group or others may read or
// write is refused (chmod 600 it). latch-local makes the engine's
// requests to the providers itself (net/http, no redirect followed, 10 s,
// 1 MiB). Providers send browsers back to the OAuth callback printed with
// the credentials, -base-url + /v1/oauth/callback (-base-url is where
// browsers reach latch-local, http://127.0.0.1:<port> by default); it is
// printed without providers too, so that it can be registered at a
// provider first. The start URLs carry the public token.
//
// The project id, secret, public token, signing keys and secret box key
// are kept next to the database (credentials.json, signing-keys.json and
// secret-box.key, mode 0600, synced to disk when created), so restarts
// keep users, sessions, the JWKS, enrolled TOTPs and the token the app's
// pages were given; a credentials.json without a public_token gains one.
// secret-box.key is the 32 raw bytes of the AES-256-GCM key that seals
// TOTP secrets and recovery codes in the database: lose or change it and
// every TOTP enrolled under it stops working; keep it out of any copy of
// the database. The database
// and its -wal and -shm files are created 0600 in a 0700 directory and
// written with synchronous=FULL, so an acknowledged revocation survives a
// power cut. The revocation feed (GET /v1/sessions/revocations) is kept
// in the same database, so a verifier's cursor reads on across a restart
// without missing an event; reads with wait > 0 are held in the process
// until a revoke lands, as by package testharness.
//
// latch-local carries its guest, the wasip1 build of the engine
// (guest.wasm.gz, rewritten by `make guest`), and needs neither the Go
// toolchain nor the module's sources to run: `go install
// ./testharness/cmd/latch-local` once, then run latch-local from any
// directory. -wasm serves another build of the guest instead.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/latchauth/latch/testharness/internal/wazerohost"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/sdk"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run serves until SIGINT or SIGTERM and returns the exit code: 0 after a
// clean stop, 1 on failure, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("latch-local", flag.ContinueOnError)
	fl.SetOutput(stderr)
	port := fl.Int("port", 8788, "port to listen on, on 127.0.0.1 (0 picks a free one)")
	dbPath := fl.String("db", filepath.Join(".latch", "latch.db"), "SQLite database file; credentials and keys are kept beside it")
	wasm := fl.String("wasm", "", "prebuilt guest (GOOS=wasip1 -buildmode=c-shared of wasm/guest); the one built into latch-local when empty")
	instances := fl.Int("instances", 4, "guest instances serving requests at once")
	var mf mailFlags
	mf.register(fl)
	var lf loginFlags
	lf.register(fl)
	var sf sdkFlags
	sf.register(fl)
	var wf webauthnFlags
	wf.register(fl)
	var of oauthFlags
	of.register(fl)
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 || *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "latch-local: unexpected arguments %q or bad port %d\n", fl.Args(), *port)
		fl.Usage()
		return 2
	}
	if *dbPath == "" {
		fmt.Fprintln(stderr, "latch-local: -db names the SQLite file; it cannot be empty")
		fl.Usage()
		return 2
	}
	if err := mf.check(fl); err != nil {
		fmt.Fprintf(stderr, "latch-local: %v\n", err)
		fl.Usage()
		return 2
	}
	origins, err := sf.check()
	if err != nil {
		fmt.Fprintf(stderr, "latch-local: %v\n", err)
		fl.Usage()
		return 2
	}
	passkeyOrigins, err := wf.check()
	if err != nil {
		fmt.Fprintf(stderr, "latch-local: %v\n", err)
		fl.Usage()
		return 2
	}
	if err := of.check(); err != nil {
		fmt.Fprintf(stderr, "latch-local: %v\n", err)
		fl.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := options{port: *port, dbPath: *dbPath, wasm: *wasm, instances: *instances, mail: &mf, login: &lf, sdkOrigins: origins, oauth: &of, webauthnOrigins: passkeyOrigins}
	if err := serve(ctx, opts, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "latch-local: %v\n", err)
		return 1
	}
	return 0
}

// options are run's flags, checked.
type options struct {
	port         int
	dbPath, wasm string
	instances    int
	mail         *mailFlags
	login        *loginFlags
	sdkOrigins   []string
	oauth        *oauthFlags
	// webauthnOrigins are the origins passkey ceremonies may come from.
	webauthnOrigins []string
}

func serve(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	templates, err := loadTemplates(o.mail.templates)
	if err != nil {
		return err
	}
	providers, err := o.oauth.load()
	if err != nil {
		return err
	}
	dir := filepath.Dir(o.dbPath)
	if err := makeDir(dir); err != nil {
		return err
	}
	credFile := filepath.Join(dir, "credentials.json")
	cred, err := loadCredentials(credFile)
	if err != nil {
		return err
	}
	keyFile := filepath.Join(dir, "signing-keys.json")
	keySet, err := loadOrCreate(keyFile, func() ([]byte, error) { return keys.NewSet(rand.Reader, engine.EnvOf(cred.ProjectID)) })
	if err != nil {
		return err
	}
	signing, err := keys.ParseSet(keySet)
	if err != nil {
		return fmt.Errorf("%s: %w", keyFile, err)
	}
	secretKey, err := loadSecretKey(filepath.Join(dir, "secret-box.key"))
	if err != nil {
		return err
	}
	var guest []byte
	if o.wasm == "" {
		if guest, err = embeddedGuest(); err != nil {
			return err
		}
	}
	tr, err := o.mail.start()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tr.close()) }()
	s, err := wazerohost.New(wazerohost.Config{
		ProjectID:       cred.ProjectID,
		Secret:          cred.Secret,
		Keys:            signing,
		SecretKey:       secretKey,
		DBPath:          o.dbPath,
		Addr:            fmt.Sprintf("127.0.0.1:%d", o.port),
		Instances:       o.instances,
		Wasm:            guest,
		WasmPath:        o.wasm,
		Stderr:          stderr,
		Mailer:          tr.mailer,
		MailFrom:        o.mail.from,
		ProjectName:     o.mail.project,
		RedirectURLs:    o.mail.redirects,
		MailTemplates:   templates,
		LoginPage:       o.login.config(o.mail.project),
		PublicToken:     cred.PublicToken,
		SDKOrigins:      o.sdkOrigins,
		OAuthProviders:  providers,
		BaseURL:         o.oauth.baseURL,
		WebAuthnOrigins: o.webauthnOrigins,
	})
	if errors.Is(err, sdk.ErrConfig) {
		// The origins were checked with the flags: the token is at fault.
		return fmt.Errorf("%w (public_token in %s)", err, credFile)
	}
	if err != nil {
		return err
	}
	login := ""
	if s.LoginURL != "" {
		login = "login:      " + s.LoginURL + "\n"
	}
	// The callback is printed with or without providers, so that it can
	// be registered at a provider before the provider is configured here.
	base := o.oauth.baseURL
	if base == "" {
		base = s.URL
	}
	social := "oauth_callback: " + base + callbackPath + "\n"
	if names := providerNames(providers); names != "" {
		social += "oauth_providers: " + names + "\n"
	}
	// One write, so that a reader sees all of it or none.
	fmt.Fprintf(stdout, "latch-local: serving %s\nproject_id: %s\nsecret:     %s\npublic_token: %s\njwks:       %s\n%s%s%sdatabase:   %s\n",
		s.URL, s.ProjectID, s.Secret, s.PublicToken, s.JWKSURL(), social, tr.banner, login, o.dbPath)
	<-ctx.Done()
	fmt.Fprintln(stdout, "latch-local: stopping")
	return s.Close()
}

// credentials are credentials.json: the project's credentials and the
// SDK surface's public token.
type credentials struct {
	ProjectID   string `json:"project_id"`
	Secret      string `json:"secret"`
	PublicToken string `json:"public_token"`
}

// loadCredentials reads the credentials at path, or creates them. A file
// from before the SDK surface, without a public_token, gains one: the file
// is rewritten whole with every member it had.
func loadCredentials(path string) (credentials, error) {
	raw, err := loadOrCreate(path, newCredentials)
	if err != nil {
		return credentials{}, err
	}
	var c credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return credentials{}, fmt.Errorf("%s: %w", path, err)
	}
	if c.ProjectID == "" || c.Secret == "" {
		return credentials{}, fmt.Errorf("%s: project_id and secret are required", path)
	}
	if c.PublicToken != "" {
		return c, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return credentials{}, fmt.Errorf("%s: %w", path, err)
	}
	c.PublicToken = sdk.NewPublicToken(c.ProjectID)
	if members["public_token"], err = json.Marshal(c.PublicToken); err != nil {
		return credentials{}, err
	}
	out, err := json.MarshalIndent(members, "", "  ")
	if err != nil {
		return credentials{}, err
	}
	if err := replaceFile(path, out); err != nil {
		return credentials{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func newCredentials() ([]byte, error) {
	id, err := keys.NewProjectID(rand.Reader, "test")
	if err != nil {
		return nil, err
	}
	secret, err := keys.NewSecret(rand.Reader, "test")
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(credentials{ProjectID: id, Secret: secret, PublicToken: sdk.NewPublicToken(id)}, "", "  ")
}

// loadSecretKey reads the secret box key at path, or creates one. A file
// of any other size than a key is refused rather than replaced: what it
// sealed would no longer open.
func loadSecretKey(path string) ([]byte, error) {
	key, err := loadOrCreate(path, func() ([]byte, error) { return keys.NewSecretKey(rand.Reader) })
	if err != nil {
		return nil, err
	}
	if len(key) != keys.SecretKeySize {
		return nil, fmt.Errorf("%s: %d bytes, want a key of %d random bytes; restore the file this server used, or remove it to start over (TOTPs enrolled under the old key stop working)", path, len(key), keys.SecretKeySize)
	}
	return key, nil
}

// loadOrCreate reads path, or creates it with mode 0600 from create when
// it does not exist yet.
func loadOrCreate(path string, create func() ([]byte, error)) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return raw, err
	}
	if raw, err = create(); err != nil {
		return nil, err
	}
	return raw, writeNew(path, raw)
}

// writeNew creates path with mode 0600, failing if it appeared meanwhile,
// and syncs it and its directory before returning: credentials and keys
// that were printed or used must survive a crash.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// replaceFile replaces path with data (mode 0600) through a synced
// temporary file renamed over it, so that a crash leaves the old file or
// the new one, never half of either.
func replaceFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
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
		return err
	}
	return syncDir(filepath.Dir(path))
}

// makeDir creates dir and its missing parents with mode 0700, syncing
// each parent that gained an entry.
func makeDir(dir string) error {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := makeDir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// syncDir makes the entries created in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
