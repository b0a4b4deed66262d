//go:build !js

package e2e

import (
	"crypto/sha256"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestThreadCPU reads this process's threads: the figures are positive,
// the main thread's is part of the whole, and both grow while the calling
// thread (locked to the main thread's id or not) burns CPU.
func TestThreadCPU(t *testing.T) {
	pid := os.Getpid()
	all0, main0, err := ThreadCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	if all0 <= 0 || main0 < 0 || main0 > all0 {
		t.Fatalf("ThreadCPU(%d) = %v, %v: want all > 0 and 0 ≤ main ≤ all", pid, all0, main0)
	}
	// Burn about 50 ms of CPU on this goroutine's thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sum := sha256.Sum256(nil)
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		sum = sha256.Sum256(sum[:])
	}
	all1, _, err := ThreadCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	// The wall time spent is a floor only if the thread ran throughout;
	// on a busy machine it may not have, so ask for a fifth of it.
	if d := all1 - all0; d < 10*time.Millisecond {
		t.Fatalf("the threads' CPU grew by %v while one burned 50 ms", d)
	}
	if _, _, err := ThreadCPU(1 << 30); err == nil {
		t.Fatal("ThreadCPU of a process that does not exist: no error")
	}
}
