package engine

import (
	"os"
	"strings"
	"testing"
)

// TestRoutesDocumented keeps the engine and the repository's API.md from
// drifting apart: every route the engine serves is named there, as
// "METHOD /path" with API.md's wildcard names.
func TestRoutesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../API.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes() {
		if !strings.Contains(string(doc), rt.pattern) {
			t.Errorf("API.md does not document %q", rt.pattern)
		}
	}
}
