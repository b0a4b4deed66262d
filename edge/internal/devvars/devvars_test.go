package devvars

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev.vars")
	long := strings.Repeat("k", 100_000)
	content := "# comment\n\nA=1\n B = two words \nC=\"quoted = x\"\nD='single'\nE=\"unbalanced'\nnot a setting\nLONG=" + long + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two words", "C": "quoted = x", "D": "single", "E": "\"unbalanced'", "LONG": long}
	if len(got) != len(want) {
		t.Errorf("read %d settings, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %.40q, want %.40q", k, got[k], v)
		}
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}
