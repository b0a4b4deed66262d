package sdk

import (
	"os"
	"strings"
	"testing"
)

// TestRoutesDocumented: API.md names every route of the surface.
func TestRoutesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../API.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range (&surface{}).routes() {
		if !strings.Contains(string(doc), rt.pattern) {
			t.Errorf("API.md does not document %q", rt.pattern)
		}
	}
}
