// Package password hashes passwords and judges their strength.
//
// Hashing is argon2id (golang.org/x/crypto/argon2) in the PHC string
// format, so each stored hash carries its own parameters: a Hasher
// verifies hashes made with older parameters and reports when one should
// be redone. Parameters read from a stored hash are bounded, so a corrupt
// row cannot make a verification allocate or compute without limit.
// DefaultParams are chosen for Go compiled to Wasm on Cloudflare Workers;
// RATIONALE.md ("Why these password hash parameters?") has the reasons,
// BENCHMARKS.md ("Passwords") the measurements.
//
// Check estimates how many guesses a password would take, after zxcvbn:
// it looks for common passwords, words and names (also reversed, with
// l33t substitutions and capitals), keyboard patterns, repeats,
// sequences, years, dates and parts of the user's email address, and
// scores the cheapest combination from 0 to 4. The lists are embedded and
// parsed once per process on first use. Everything is deterministic and
// plain Go, so it runs the same natively and on js/wasm and wasip1/wasm.
package password
