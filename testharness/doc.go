// Package testharness runs Latch's engine the way tests and local runs need
// it: the wasip1 build of the same engine the Worker runs, under wazero, in
// this Go process, serving the same HTTP API on loopback. It is to Latch
// what net/http/httptest is to a handler.
//
//	s := testharness.Start(t)           // closed when t ends
//	req.SetBasicAuth(s.ProjectID, s.Secret)
//	http.Post(s.URL+"/v1/users", …)
//
// The host gives the guest its capabilities and keeps the dangerous ones:
//
//   - Store: an embedded SQLite (github.com/ncruces/go-sqlite3) with the
//     Worker's own migrations. In memory unless Config.DBPath names a file.
//     The guest's database/sql driver forwards each statement to the host.
//   - Signing: the host holds the RSA keys and signs; the guest knows kids
//     and public keys only. Rotate with Server.RotateKey or Server.SetKeys.
//   - Mail: Config.Mailer, the host's transport (SMTP or the signed
//     webhook of package wasm/mail). The guest's engine renders each
//     message and hands it to the host to deliver; credentials and
//     secrets of the transport never enter the guest.
//   - Secret box: the host holds an AES-256-GCM key (Config.SecretKey,
//     generated when empty) and seals and opens for the engine, which
//     keeps TOTP secrets and recovery codes in the store only sealed. The
//     key never enters the guest; a file-backed server needs the same key
//     on every start.
//   - Clock and randomness: the guest's WASI wall clock is Config.Now plus
//     Server.Advance; its random_get reads Config.Rand.
//
// Requests run in a pool of guest instances (Config.Instances), each
// serving one request at a time, so a Server takes concurrent requests.
// Each request is bounded by Config.RequestTimeout: 503 when no instance
// frees up in time, 504 when the guest does not answer in time (that
// instance is closed and replaced).
//
// # Getting the guest
//
// With Config.Wasm and Config.WasmPath empty, New builds wasm/guest with
// the Go toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) from the
// module's current sources and caches the result under Config.CacheDir,
// keyed by a hash of the Go version and every non-standard source file the
// guest depends on. Only Go is needed; an unchanged tree costs one
// `go list` and no link. wazero's compiled code is cached in the same
// directory. The framing between host and guest is documented in package
// wasm/guest/wire.
//
// The host itself is package testharness/internal/wazerohost, which
// neither builds the guest nor imports testing; Config and Server are its
// types. latch-local links only that host and embeds a prebuilt guest, so
// an installed latch-local runs outside the module too.
package testharness
