// Command latch-example-origin serves package exampleorigin: an app
// origin whose page says who is signed in, next to the dev Worker that
// `make dev` runs. A visitor without a session is sent to Latch's hosted
// login page and comes back signed in.
//
//	go run ./edge/cmd/latch-example-origin [-addr 127.0.0.1:3000] [-latch-url http://127.0.0.1:8787] [-login-url URL] [-dev-vars .dev.vars]
//
// -latch-url is the edge the verifier asks for its JWKS, its session
// fallback and its revocation feed; -login-url is the login page,
// <latch-url>/login by default. The project id and secret come from the
// KEY=VALUE file -dev-vars names (LATCH_PROJECT_ID, LATCH_PROJECT_SECRET;
// `make dev` creates it); the environment variables of the same names
// override it. The secret is never printed. With -addr port 0 a free port
// is picked, and the address printed is the one listened on. It stops on
// SIGINT or SIGTERM.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
