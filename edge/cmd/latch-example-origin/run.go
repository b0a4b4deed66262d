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
	"strings"
	"syscall"
	"time"

	"github.com/latchauth/latch/edge/internal/devvars"
	"github.com/latchauth/latch/testharness/exampleorigin"
	"github.com/latchauth/latch/verifier"
)

// The settings read from the dev vars file or the environment.
const (
	keyProjectID = "LATCH_PROJECT_ID"
	keySecret    = "LATCH_PROJECT_SECRET"
)

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
}

// run serves until SIGINT or SIGTERM and returns the exit code: 0 after a
// clean stop, 1 on failure, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("latch-example-origin", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:3000", "address to listen on (port 0 picks a free one)")
	latchURL := fl.String("latch-url", "http://127.0.0.1:8787", "the Latch edge: JWKS, session fallback and revocation feed")
	loginURL := fl.String("login-url", "", "Latch's hosted login page (default <latch-url>/login)")
	devVars := fl.String("dev-vars", ".dev.vars", "KEY=VALUE file with "+keyProjectID+" and "+keySecret+" (make dev creates it); the environment overrides it")
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
	var err error
	if o.projectID, o.secret, err = credentials(*devVars); err != nil {
		fmt.Fprintf(stderr, "latch-example-origin: %v\n", err)
		return 1
	}
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
	})
	if err != nil {
		return err
	}
	defer v.Close()
	h, err := exampleorigin.New(exampleorigin.Config{Verifier: v, LoginURL: o.loginURL, URL: self})
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

// credentials returns the project id and secret: from the environment
// when set there, else from the dev vars file at path. The file may be
// missing when the environment has both.
func credentials(path string) (projectID, secret string, err error) {
	projectID, secret = os.Getenv(keyProjectID), os.Getenv(keySecret)
	if projectID != "" && secret != "" {
		return projectID, secret, nil
	}
	vars, err := devvars.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("%s not found: run make dev first, or set %s and %s", path, keyProjectID, keySecret)
	}
	if err != nil {
		return "", "", err
	}
	if projectID == "" {
		projectID = vars[keyProjectID]
	}
	if secret == "" {
		secret = vars[keySecret]
	}
	if projectID == "" || secret == "" {
		return "", "", fmt.Errorf("%s: %s and %s are required (in the file or the environment)", path, keyProjectID, keySecret)
	}
	return projectID, secret, nil
}
