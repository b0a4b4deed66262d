package password

import "fmt"

// Params are the argon2id parameters. They are stored inside every encoded
// hash, so they can be raised later without invalidating existing hashes:
// Verify reports rehash=true for a hash made with other parameters.
type Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // lanes; the Wasm builds have one thread, so 1
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams returns the production parameters: argon2id with 19 MiB,
// two passes, one lane (OWASP's first recommended argon2id setting), a
// 16-byte salt and a 32-byte key. See RATIONALE.md, "Why these password
// hash parameters?", and BENCHMARKS.md, "Passwords", for the measurements.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters, both configured and read back from a stored hash.
// The upper bounds keep a corrupt or hostile row from making one Verify
// allocate hundreds of megabytes or run for seconds. The lower bounds only
// reject the zero value and degenerate settings (tests use small memory to
// stay fast); production strength comes from DefaultParams.
const (
	minMemory  = 64        // KiB
	maxMemory  = 64 * 1024 // KiB; a Worker isolate has 128 MB in all
	minTime    = 1
	maxTime    = 10
	maxThreads = 4
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Validate reports whether p is within the accepted bounds. The error
// wraps ErrInvalidParams.
func (p Params) Validate() error {
	switch {
	case p.Memory < minMemory || p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB not in %d..%d", ErrInvalidParams, p.Memory, minMemory, maxMemory)
	case p.Time < minTime || p.Time > maxTime:
		return fmt.Errorf("%w: time %d not in %d..%d", ErrInvalidParams, p.Time, minTime, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: threads %d not in 1..%d", ErrInvalidParams, p.Threads, maxThreads)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length %d not in %d..%d", ErrInvalidParams, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length %d not in %d..%d", ErrInvalidParams, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}
