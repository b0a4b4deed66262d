//go:build unix

package verifier

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used (user and system, all
// threads, the garbage collector's included).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerifyCPU runs cold Verify (with the revocation feed off and
// on, see BenchmarkVerify) and the two RSA baselines of BenchmarkVerify
// in alternating batches of 64 tokens and reports the
// process CPU time per token of each, and their ratio to the bare RSA
// check. (golang-jwt is left out: the garbage collection its allocations
// cause would be charged to whichever batch runs next.) On a machine shared
// with other work the wall-clock ns/op of separate benchmarks drift with
// the load; CPU time does not count the time spent waiting for a core,
// and alternating batches exposes every arm to the same conditions.
// (The ns/op column is per round of three batches and means little.)
func BenchmarkVerifyCPU(b *testing.B) {
	k := testKeys()[0]
	pub := &k.Private.PublicKey
	toks := benchTokens()
	srv := newJWKSServer(b, k)
	clk := newClock()
	ctx := context.Background()
	v := newTestVerifier(b, srv, clk, nil)
	if _, err := v.Verify(ctx, toks[0]); err != nil {
		b.Fatal(err)
	}
	vf := newFeedBenchVerifier(b, srv, clk)
	sums := make([][32]byte, len(toks))
	sigs := make([][]byte, len(toks))
	for i, tok := range toks {
		_, dot := splitToken(tok)
		sums[i] = sha256.Sum256([]byte(tok[:dot]))
		sigs[i], _ = base64.RawURLEncoding.DecodeString(tok[dot+1:])
	}

	runCPUArms(b, toks, []cpuArm{
		{name: "cold", run: func(_ int, tok string) error { _, err := v.Verify(ctx, tok); return err }},
		{name: "cold-feed", run: func(_ int, tok string) error { _, err := vf.Verify(ctx, tok); return err }},
		{name: "rsa", run: func(_ int, tok string) error {
			_, dot := splitToken(tok)
			sum := sha256.Sum256([]byte(tok[:dot]))
			sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
			if err != nil {
				return err
			}
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
		}},
		{name: "rsa-precomputed", run: func(i int, _ string) error {
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sums[i][:], sigs[i])
		}},
	}, v, vf)
}

// BenchmarkVerifyM2MCPU is BenchmarkVerifyCPU for VerifyM2M (one required
// scope) on M2M access tokens: cold, cold with the feed on, and the bare
// RSA check of the same tokens, in alternating batches.
func BenchmarkVerifyM2MCPU(b *testing.B) {
	k := testKeys()[0]
	pub := &k.Private.PublicKey
	toks := benchM2MTokens()
	srv := newJWKSServer(b, k)
	clk := newClock()
	ctx := context.Background()
	v := newTestVerifier(b, srv, clk, nil)
	if _, err := v.VerifyM2M(ctx, toks[0]); err != nil {
		b.Fatal(err)
	}
	vf := newFeedBenchVerifier(b, srv, clk)
	runCPUArms(b, toks, []cpuArm{
		{name: "cold", run: func(_ int, tok string) error { _, err := v.VerifyM2M(ctx, tok, "read:users"); return err }},
		{name: "cold-feed", run: func(_ int, tok string) error { _, err := vf.VerifyM2M(ctx, tok, "read:users"); return err }},
		{name: "rsa", run: func(_ int, tok string) error {
			_, dot := splitToken(tok)
			sum := sha256.Sum256([]byte(tok[:dot]))
			sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
			if err != nil {
				return err
			}
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
		}},
	}, v, vf)
}

// cpuArm is one arm of a CPU benchmark: run checks token i, tok.
type cpuArm struct {
	name string
	run  func(i int, tok string) error
}

// runCPUArms runs arms over toks in alternating batches of 64, emptying
// the token caches of vs after each pass, and reports each arm's CPU time
// per token and its ratio to the arm named "rsa" (the third).
func runCPUArms(b *testing.B, toks []string, arms []cpuArm, vs ...*Verifier) {
	const batch = 64
	cpu := make([]time.Duration, len(arms))
	n := 0
	for round := 0; b.Loop(); round++ {
		start := (round * batch) % len(toks)
		if start == 0 {
			for _, v := range vs { // every token cold again
				v.tokens = newTokenCache(v.cfg.tokenCacheCap)
			}
		}
		for a, arm := range arms {
			c0 := cpuTime(b)
			for i := start; i < start+batch; i++ {
				if err := arm.run(i, toks[i]); err != nil {
					b.Fatalf("%s: %v", arm.name, err)
				}
			}
			cpu[a] += cpuTime(b) - c0
		}
		n += batch
	}
	for a, arm := range arms {
		b.ReportMetric(float64(cpu[a])/float64(n), arm.name+"-cpu-ns/op")
		if arm.name != "rsa" {
			b.ReportMetric(float64(cpu[a])/float64(cpu[2]), arm.name+"/rsa")
		}
	}
}

// cpuPerOp reports the process CPU time per iteration of b.Loop as
// cpu-ns/op; call it with the CPU time taken before the loop.
func cpuPerOp(b *testing.B, before time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
}
