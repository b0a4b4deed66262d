// Command latch-devvars creates the .dev.vars file `wrangler dev` reads the
// Worker's settings from: a fresh test project id, project secret and RSA
// signing key set, and mail by the signed webhook to the dev mailbox
// `make dev` runs (LATCH_MAIL=webhook, LATCH_MAIL_WEBHOOK_URL, a random
// LATCH_MAIL_WEBHOOK_SECRET, LATCH_MAIL_FROM, LATCH_REDIRECT_URLS), the
// secret box key, the hosted login page, and the frontend SDK's surface
// for the example origin's pages (LATCH_PUBLIC_TOKEN, LATCH_SDK_ORIGINS).
// It never overwrites an existing file: one that lacks some of these
// settings gains them, appended, and keeps every line it had.
//
//	latch-devvars [-file .dev.vars] [-print] [-base-url URL] [-mailbox-url URL] [-get NAME] [-print-keys]
//
// -print shows the project id, secret, public token and base URL of the
// file (creating it first if missing), the OAuth callback to register at
// a social login provider (the base URL, or LATCH_BASE_URL when the file
// sets it, + /v1/oauth/callback) with the providers LATCH_OAUTH_PROVIDERS
// names, and with -mailbox-url the dev mailbox's page, for pasting into a
// client. -get prints one setting's value (make dev hands
// the webhook secret to the mailbox with it). -print-keys writes a fresh
// LATCH_SIGNING_KEYS value to stdout and touches no file, for
// `wrangler secret put LATCH_SIGNING_KEYS`.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
