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
