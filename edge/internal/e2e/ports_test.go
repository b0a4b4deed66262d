//go:build !js

package e2e

import (
	"context"
	"testing"
)

// TestWorkerOnTakenPort starts a Worker on the port another Worker holds:
// the second must fail to start, never take the first one's answers for
// its own (which then refuses its credentials: 401 on every call).
func TestWorkerOnTakenPort(t *testing.T) {
	t.Parallel()
	first := Start(t, Options{})
	second, err := New(context.Background(), Options{Port: first.port})
	if err == nil {
		second.Close()
		t.Fatalf("a Worker started on %s, the port of another", first.URL)
	}
	t.Logf("refused: %v", err)
}

// TestReservePort: a reserved port is not handed out again until it is
// released.
func TestReservePort(t *testing.T) {
	held := map[int]func(){}
	for range 50 {
		p, release, err := ReservePort()
		if err != nil {
			t.Fatal(err)
		}
		if held[p] != nil {
			t.Fatalf("port %d reserved twice", p)
		}
		if p < portLow || p >= portHigh {
			t.Fatalf("port %d outside %d–%d", p, portLow, portHigh)
		}
		held[p] = release
	}
	for _, release := range held {
		release()
	}
}
