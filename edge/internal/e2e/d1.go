//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
)

// QueryD1 runs one SQL statement on the Worker's local D1 database through
// `wrangler d1 execute --local`, beside the running Worker, and returns the
// rows it yields: what an operator (or a leaked export) reads of the
// database, without the Worker.
func (w *Worker) QueryD1(ctx context.Context, sql string) ([]map[string]any, error) {
	cmd := exec.CommandContext(ctx, w.wrangler, "d1", "execute", "DB", "--local",
		"--persist-to", w.persist, "-c", w.cfg, "--json", "--command", sql)
	cmd.Dir, cmd.Env = w.dir, wranglerEnv(w.dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return nil, fmt.Errorf("e2e: wrangler d1 execute: %w\n%s%s", err, out, stderr)
	}
	var res []struct {
		Results []map[string]any `json:"results"`
		Success bool             `json:"success"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("e2e: wrangler d1 execute: %w\n%s", err, out)
	}
	var rows []map[string]any
	for _, r := range res {
		if !r.Success {
			return nil, fmt.Errorf("e2e: wrangler d1 execute: %s failed\n%s", sql, out)
		}
		rows = append(rows, r.Results...)
	}
	return rows, nil
}
