//go:build !js

package e2e

import (
	"strings"
	"testing"
)

func TestLogTailKeepsTheEnd(t *testing.T) {
	var l logTail
	for i := range 3000 {
		_, _ = l.Write([]byte(strings.Repeat("x", 9) + string(rune('a'+i%26))))
	}
	_, _ = l.Write([]byte("the last line\n"))
	got := l.String()
	if len(got) != logTailBytes || !strings.HasSuffix(got, "the last line\n") {
		t.Fatalf("kept %d bytes ending %q, want %d ending with the last line", len(got), got[len(got)-20:], logTailBytes)
	}
}

func TestLogTailKeepsReloads(t *testing.T) {
	var l logTail
	_, _ = l.Write([]byte("⎔ Starting local server...\n⎔ Reloading local"))
	_, _ = l.Write([]byte(" server...\n"))
	for range 3000 {
		_, _ = l.Write([]byte("[wrangler:info] GET /v1/sessions/jwks/x 200 OK (3ms)\n"))
	}
	got := l.String()
	if !strings.Contains(got, "⎔ Reloading local server...\n") || strings.Contains(got, "Starting local server") {
		t.Fatalf("the reload line (written in two parts, long before the tail) is not kept alone:\n%.400s", got)
	}
	if !strings.HasSuffix(got, "200 OK (3ms)\n") {
		t.Fatalf("the tail is not kept:\n%s", got[len(got)-200:])
	}
}
