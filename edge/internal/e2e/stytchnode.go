//go:build !js

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The exit codes of the Stytch Node scripts in testdata
// (stytch_node_client.mjs): 0 with the answer, exitStytchError with the
// StytchError the SDK threw, 1 for any other failure, 2 for a usage
// error.
const exitStytchError = 3

// stytchNodeTimeout bounds one run of a script.
const stytchNodeTimeout = 2 * time.Minute

// runStytchNode runs script, a file in testdata (stytch_node_oauth.mjs,
// stytch_node_call.mjs), with node from PATH and env added to its
// environment (STYTCH_BASE_URL, STYTCH_PROJECT_ID, STYTCH_SECRET, and the
// script's own), and returns the JSON object it printed: what Stytch's
// Node SDK made of Latch's answer. It fails the test when the SDK threw
// or the script failed otherwise, saying what it printed.
func runStytchNode(t testing.TB, script string, env map[string]string) map[string]any {
	t.Helper()
	code, out := stytchNode(t, script, env)
	if code != 0 {
		t.Fatalf("%s: exit %d: %v", script, code, out)
	}
	return out
}

// runStytchNodeError runs script as runStytchNode does, expecting the SDK
// to throw a StytchError, and returns its fields: status_code,
// request_id, error_type, error_message, error_url. It fails the test
// when the call succeeded or failed in another way.
func runStytchNodeError(t testing.TB, script string, env map[string]string) map[string]any {
	t.Helper()
	code, out := stytchNode(t, script, env)
	e, ok := out["stytch_error"].(map[string]any)
	if code != exitStytchError || !ok {
		t.Fatalf("%s: exit %d: %v, want a StytchError", script, code, out)
	}
	return e
}

// stytchNode runs script and returns its exit code and the JSON object
// it printed.
func stytchNode(t testing.TB, script string, env map[string]string) (int, map[string]any) {
	t.Helper()
	node := RequireStytchNode(t)
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stytchNodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, path)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &out); err != nil {
		t.Fatalf("%s: exit %d, output not a JSON object: %v\nstdout: %s\nstderr: %s", script, code, err, stdout.String(), stderr.String())
	}
	return code, out
}

// RequireStytchNode returns node from PATH when it and Stytch's Node SDK
// (npm package stytch, which npm ci installs under the repository root)
// are there; otherwise it skips the test, or fails it when CI=true or
// LATCH_E2E=1 is set, as RequireWrangler does.
func RequireStytchNode(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil && !fileExists(filepath.Join(root, "node_modules", "stytch", "package.json")) {
		err = errors.New("the Stytch Node SDK (npm package stytch) is not installed under node_modules; `make test` installs it with npm ci")
	}
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("LATCH_E2E") == "1" {
			t.Fatalf("e2e: %v (CI=true or LATCH_E2E=1: the Stytch Node SDK tests must run)", err)
		}
		t.Skipf("e2e: %v (set LATCH_E2E=1 to fail instead)", err)
	}
	return node
}
