//go:build !js

package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Workers' ports are drawn from below the kernel's ephemeral range
// (32768–60999 on Linux by default), so that no socket bound to port 0 —
// an httptest server, wrangler's and workerd's own inner ports — is handed
// one between the moment it is chosen and the moment wrangler binds it.
const portLow, portHigh = 20000, 32000

// ReservePort picks a free loopback port for a Worker and holds it until
// release is called: a lock file per port, which every process starting
// Workers this way takes first, so that two Workers are never given the
// same port — of this test binary or of another running beside it (go
// test runs packages in parallel), nor across a Worker's Restart, when
// its port is free for a moment. A Worker started without Options.Port
// reserves its own and releases it on Close.
func ReservePort() (port int, release func(), err error) {
	dir := filepath.Join(os.TempDir(), "latch-e2e-ports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, nil, fmt.Errorf("e2e: ports: %w", err)
	}
	for range 1000 {
		p := portLow + rand.IntN(portHigh-portLow)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return 0, nil, fmt.Errorf("e2e: ports: %w", err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // another Worker holds it
			continue
		}
		// Locked; is it free of everything else on the machine too?
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			f.Close()
			continue
		}
		l.Close()
		return p, func() { f.Close() }, nil
	}
	return 0, nil, fmt.Errorf("e2e: no free port in %d–%d", portLow, portHigh)
}
