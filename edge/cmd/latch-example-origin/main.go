// Command latch-example-origin serves package exampleorigin: an app
// origin whose page says who is signed in, next to the dev Worker that
// `make dev` runs. A visitor without a session is sent to Latch's hosted
// login page and comes back signed in; at /sdk-login the origin also
// signs visitors in on its own page, with Stytch's frontend SDK.
//
//	go run ./edge/cmd/latch-example-origin [-addr 127.0.0.1:3000] [-latch-url http://127.0.0.1:8787] [-login-url URL] [-dev-vars .dev.vars] [-sdk-js FILE]
//
// -latch-url is the edge the verifier asks for its JWKS, its session
// fallback and its revocation feed, and the SDK calls; -login-url is the
// login page, <latch-url>/login by default. The project id and secret
// come from the KEY=VALUE file -dev-vars names (LATCH_PROJECT_ID,
// LATCH_PROJECT_SECRET; `make dev` creates it); the environment variables
// of the same names override it. The secret is never printed. With -addr
// port 0 a free port is picked, and the address printed is the one
// listened on. It stops on SIGINT or SIGTERM.
//
// The SDK sign-in needs the project's public token (LATCH_PUBLIC_TOKEN,
// from the same file or the environment) and the SDK's browser build,
// -sdk-js: by default node_modules/@stytch/vanilla-js/dist/iife/index.js,
// which `npm ci` installs, looked for next to the -dev-vars file, then in
// the working directory. Without either the origin says so once and
// serves without it; -sdk-js "" turns it off. Latch must allow the
// origin's pages (LATCH_SDK_ORIGINS; .dev.vars allows
// http://127.0.0.1:3000 and http://localhost:3000).
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
