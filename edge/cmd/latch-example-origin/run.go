package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/latchauth/latch/edge/internal/devvars"
	"github.com/latchauth/latch/testharness/exampleorigin"
	"github.com/latchauth/latch/verifier"
)

// The settings read from the dev vars file or the environment.
const (
	keyProjectID   = "LATCH_PROJECT_ID"
	keySecret      = "LATCH_PROJECT_SECRET"
	keyPublicToken = "LATCH_PUBLIC_TOKEN"
)

// defaultSDKJS is where `npm ci` puts the browser build of Stytch's SDK
// that package.json pins.
const defaultSDKJS = "node_modules/@stytch/vanilla-js/dist/iife/index.js"

// The server's timeouts. Writing allows for the verifier's call to the
// edge, which is bounded by 30 s.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// options are run's flags, checked, and the project's credentials.
type options struct {
	addr, latchURL, loginURL string
	projectID, secret        string
	sdk                      *exampleorigin.SDKConfig // nil: no SDK sign-in
}

// run serves until SIGINT or SIGTERM and returns the exit code: 0 after a
// clean stop, 1 on failure, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("latch-example-origin", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:3000", "address to listen on (port 0 picks a free one)")
	latchURL := fl.String("latch-url", "http://127.0.0.1:8787", "the Latch edge: JWKS, session fallback, revocation feed and the SDK's calls")
	loginURL := fl.String("login-url", "", "Latch's hosted login page (default <latch-url>/login)")
	devVars := fl.String("dev-vars", ".dev.vars", "KEY=VALUE file with "+keyProjectID+", "+keySecret+" and "+keyPublicToken+" (make dev creates it); the environment overrides it")
	sdkJS := fl.String("sdk-js", defaultSDKJS, "Stytch's SDK for the sign-in at /sdk-login (npm ci installs it); relative to the -dev-vars file's directory, else the working directory; empty: no SDK sign-in")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "latch-example-origin: unexpected arguments %q\n", fl.Args())
		fl.Usage()
		return 2
	}
	o := options{addr: *addr, latchURL: strings.TrimSuffix(*latchURL, "/"), loginURL: *loginURL}
	if o.loginURL == "" {
		o.loginURL = o.latchURL + "/login"
	}
	creds, err := credentials(*devVars)
	if err != nil {
		fmt.Fprintf(stderr, "latch-example-origin: %v\n", err)
		return 1
	}
	o.projectID, o.secret = creds.projectID, creds.secret
	o.sdk = sdkConfig(creds.publicToken, o.latchURL, *sdkJS, *devVars, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "latch-example-origin: %v\n", err)
		return 1
	}
	return 0
}

// serve listens on o.addr and serves the example origin until ctx is done.
func serve(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	self := "http://" + dialable(ln.Addr())
	v, err := verifier.New(ctx, verifier.Config{
		ProjectID:    o.projectID,
		BaseURL:      o.latchURL,
		Secret:       o.secret,
		Logger:       slog.New(slog.NewTextHandler(stderr, nil)),
		ErrorHandler: exampleorigin.ErrorHandler(o.loginURL, self),
		// The SDK writes the session cookies from the page's script; a
		// refreshed JWT cookie it cannot read would hide its own.
		CookieScriptReadable: o.sdk != nil,
	})
	if err != nil {
		return err
	}
	defer v.Close()
	h, err := exampleorigin.New(exampleorigin.Config{Verifier: v, LoginURL: o.loginURL, URL: self, SDK: o.sdk})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          log.New(stderr, "latch-example-origin: ", 0),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "latch-example-origin: serving %s (sign-in at %s)\n", self, o.loginURL)
	if o.sdk != nil {
		fmt.Fprintf(stdout, "latch-example-origin: sdk sign-in at %s/sdk-login\n", self)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "latch-example-origin: stopping")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return srv.Shutdown(sctx)
}

// dialable is the listener address a browser can reach: an unspecified
// host (all interfaces) becomes 127.0.0.1.
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// devSettings are the project's settings from the dev vars file or the
// environment.
type devSettings struct {
	projectID, secret string
	publicToken       string // empty when neither has one
}

// credentials returns the project id, secret and public token: each from
// the environment when set there, else from the dev vars file at path.
// The file is read only when the environment lacks the id or the secret,
// so a token in it never goes with another project's credentials; it may
// be missing when the environment has both.
func credentials(path string) (devSettings, error) {
	s := devSettings{projectID: os.Getenv(keyProjectID), secret: os.Getenv(keySecret), publicToken: os.Getenv(keyPublicToken)}
	if s.projectID != "" && s.secret != "" {
		return s, nil
	}
	vars, err := devvars.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return devSettings{}, fmt.Errorf("%s not found: run make dev first, or set %s and %s", path, keyProjectID, keySecret)
	}
	if err != nil {
		return devSettings{}, err
	}
	if s.projectID == "" {
		s.projectID = vars[keyProjectID]
	}
	if s.secret == "" {
		s.secret = vars[keySecret]
	}
	if s.publicToken == "" {
		s.publicToken = vars[keyPublicToken]
	}
	if s.projectID == "" || s.secret == "" {
		return devSettings{}, fmt.Errorf("%s: %s and %s are required (in the file or the environment)", path, keyProjectID, keySecret)
	}
	return s, nil
}

// sdkConfig is the SDK sign-in, with the public token, Latch at latchURL
// and the SDK read from the file at js, or nil when there is no token or
// no SDK: then it says why on stderr (except when js is empty, the sign-in
// turned off), and the origin serves without it. A relative js is looked
// for in the directory of the dev vars file at devVars, then in the
// working directory.
func sdkConfig(publicToken, latchURL, js, devVars string, stderr io.Writer) *exampleorigin.SDKConfig {
	if js == "" {
		return nil
	}
	if publicToken == "" {
		fmt.Fprintf(stderr, "latch-example-origin: sdk sign-in off: no %s in %s or the environment (make dev adds it)\n", keyPublicToken, devVars)
		return nil
	}
	paths := []string{js}
	if !filepath.IsAbs(js) {
		near := filepath.Join(filepath.Dir(devVars), js)
		paths = []string{near}
		if absPath(near) != absPath(js) {
			paths = append(paths, js)
		}
	}
	for _, p := range paths {
		script, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "latch-example-origin: sdk sign-in off: %v\n", err)
			return nil
		}
		return &exampleorigin.SDKConfig{PublicToken: publicToken, LatchURL: latchURL, Script: script}
	}
	fmt.Fprintf(stderr, "latch-example-origin: sdk sign-in off: %s not found (npm ci installs it)\n", strings.Join(paths, " or "))
	return nil
}

// absPath is p made absolute, or p when that fails.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
