// Package devvars reads the .dev.vars file `make dev` creates (with
// edge/cmd/latch-devvars) and `wrangler dev` reads the Worker's settings
// from, for the local tools that need the same settings: latch-devvars
// itself and the example origin.
//
// Devvars is Latch's implementation, not API, and may change in any
// release. It is not under internal/ because its users, latch-devvars in
// edge and the example origin in testharness, share no directory below
// the module root.
package devvars

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Read parses the KEY=VALUE lines of the file at path: blank lines and #
// comments skipped, a value in single or double quotes unquoted.
func Read(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20) // the signing key set is one long line
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[strings.TrimSpace(k)] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vars, nil
}
