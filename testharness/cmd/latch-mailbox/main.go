// Command latch-mailbox is the dev mailbox on its own, for `make dev`:
// the Worker (or any host) delivers the engine's mail to it, and the
// developer reads it on a web page.
//
//	LATCH_MAIL_WEBHOOK_SECRET=… go run ./testharness/cmd/latch-mailbox [-http 127.0.0.1:8025] [-public] [-smtp 127.0.0.1:2525]
//
// It serves the mailbox page (package testharness/mailbox) on -http, the
// receiver of the signed mail webhook at POST /webhook on the same
// address — the secret, at least 32 bytes, from $LATCH_MAIL_WEBHOOK_SECRET
// — and, with -smtp, an SMTP server. Messages are kept in memory.
//
// The page shows every mailed code and link to whoever can load it, so
// -http must be a loopback address unless -public is given, and the page
// answers only a Host that names it: loopback, or with -public the host
// of -http (see mailbox.Handler). -smtp, which takes mail from anyone who
// reaches it, must be a loopback address too unless -public is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
)

const secretEnv = "LATCH_MAIL_WEBHOOK_SECRET"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run serves until SIGINT or SIGTERM and returns the exit code: 0 after a
// clean stop, 1 on failure, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("latch-mailbox", flag.ContinueOnError)
	fl.SetOutput(stderr)
	httpAddr := fl.String("http", "127.0.0.1:8025", "address of the mailbox page and of POST /webhook; loopback unless -public")
	public := fl.Bool("public", false, "allow -http and -smtp addresses off loopback, where anyone who reaches them reads every mailed code and link, or adds mail")
	smtpAddr := fl.String("smtp", "", "address of an SMTP server delivering into the mailbox, e.g. 127.0.0.1:2525; none when empty")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	secret := os.Getenv(secretEnv)
	if fl.NArg() > 0 || len(secret) < 32 {
		fmt.Fprintf(stderr, "latch-mailbox: want no arguments (got %q) and a webhook secret of at least 32 bytes in $%s (it has %d)\n", fl.Args(), secretEnv, len(secret))
		fl.Usage()
		return 2
	}
	var publicAddrs []string
	if *public {
		publicAddrs = []string{*httpAddr}
	} else if host, _, err := net.SplitHostPort(*httpAddr); err != nil || !mailbox.Loopback(host) {
		fmt.Fprintf(stderr, "latch-mailbox: -http %q is not a loopback address (localhost, 127.0.0.1 or [::1], with a port); the page shows every mailed code and link, so serve it elsewhere only with -public\n", *httpAddr)
		fl.Usage()
		return 2
	}
	// The SMTP server takes mail from anyone who reaches it (no auth): off
	// loopback, strangers could fill the dev inbox with mail that looks
	// like the project's own.
	if host, _, err := net.SplitHostPort(*smtpAddr); *smtpAddr != "" && !*public && (err != nil || !mailbox.Loopback(host)) {
		fmt.Fprintf(stderr, "latch-mailbox: -smtp %q is not a loopback address; anyone who reaches it could add mail to the inbox, so serve it elsewhere only with -public\n", *smtpAddr)
		fl.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *httpAddr, publicAddrs, *smtpAddr, []byte(secret), stdout); err != nil {
		fmt.Fprintf(stderr, "latch-mailbox: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, httpAddr string, publicAddrs []string, smtpAddr string, secret []byte, stdout io.Writer) error {
	box := mailbox.New(0)
	mux := http.NewServeMux()
	mux.Handle("/webhook", mailbox.WebhookHandler(box, secret))
	mux.Handle("/", mailbox.Handler(box, publicAddrs...))
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	banner := fmt.Sprintf("latch-mailbox: serving http://%s/\nwebhook:       http://%s/webhook\n", ln.Addr(), ln.Addr())
	if smtpAddr != "" {
		sl, err := net.Listen("tcp", smtpAddr)
		if err != nil {
			srv.Close()
			return err
		}
		smtp := mailbox.ServeSMTP(sl, box, mailbox.SMTPConfig{})
		defer smtp.Close()
		banner += fmt.Sprintf("smtp:          %s\n", smtp.Addr)
	}
	fmt.Fprint(stdout, banner)
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	fmt.Fprintln(stdout, "latch-mailbox: stopping")
	if err := srv.Close(); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
