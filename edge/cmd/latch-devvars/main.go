// Command latch-devvars creates the .dev.vars file `wrangler dev` reads the
// Worker's settings from: a fresh test project id, project secret and RSA
// signing key set. It never overwrites an existing file.
//
//	latch-devvars [-file .dev.vars] [-print] [-base-url URL] [-print-keys]
//
// -print shows the project id, secret and base URL of the file (creating it
// first if missing), for pasting into a client. -print-keys writes a fresh
// LATCH_SIGNING_KEYS value to stdout and touches no file, for
// `wrangler secret put LATCH_SIGNING_KEYS`.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
