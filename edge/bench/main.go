//go:build !js

// Command bench measures the Latch Worker on workerd (`make bench`):
// p50/p99 latency of POST /v1/sessions/authenticate, sequential and warm,
// next to baseline.mjs, a plain JavaScript Worker issuing the same D1
// statements and signing with WebCrypto, in the same run; and the size of
// the upload. It prints a Markdown report.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/latchauth/latch/edge/e2e"
	"github.com/latchauth/latch/wasm/keys"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	warm := fl.Int("warmup", 20, "warm-up requests per Worker")
	n := fl.Int("n", 200, "measured requests per Worker")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if err := bench(stdout, stderr, *warm, *n); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

type target struct {
	name  string
	base  string
	auth  [2]string
	token string
}

func bench(stdout, stderr io.Writer, warm, n int) error {
	ctx := context.Background()
	root, err := e2e.RepoRoot()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: starting the Latch Worker on workerd…")
	latch, err := e2e.Start(ctx, e2e.Options{Root: root})
	if err != nil {
		return err
	}
	defer latch.Close()
	set, err := keys.MarshalSet(latch.Keys)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: starting the baseline Worker on workerd…")
	base, err := e2e.Start(ctx, e2e.Options{
		Root: root,
		Main: filepath.Join(root, "edge", "bench", "baseline.mjs"),
		Name: "latch-baseline",
		Vars: map[string]string{
			"LATCH_PROJECT_ID":     latch.ProjectID,
			"LATCH_PROJECT_SECRET": latch.Secret,
			"LATCH_SIGNING_KEYS":   string(set),
		},
	})
	if err != nil {
		return err
	}
	defer base.Close()

	client := &http.Client{Timeout: 30 * time.Second}
	auth := [2]string{latch.ProjectID, latch.Secret}
	lt := target{name: "Latch (Go/Wasm)", base: latch.BaseURL, auth: auth}
	bt := target{name: "baseline (JS)", base: base.BaseURL, auth: auth}
	factors, err := setupLatch(client, &lt)
	if err != nil {
		return fmt.Errorf("latch setup: %w", err)
	}
	if err := setupBaseline(client, &bt, factors); err != nil {
		return fmt.Errorf("baseline setup: %w", err)
	}

	for range warm {
		for _, t := range []*target{&lt, &bt} {
			if _, err := authenticate(client, t); err != nil {
				return err
			}
		}
	}
	var latLatch, latBase []time.Duration
	for range n {
		// Alternate, so drift on a shared machine hits both alike.
		d, err := authenticate(client, &lt)
		if err != nil {
			return err
		}
		latLatch = append(latLatch, d)
		if d, err = authenticate(client, &bt); err != nil {
			return err
		}
		latBase = append(latBase, d)
	}

	wasmGzip, wasmRaw, err := gzipSize(filepath.Join(root, "edge", "build", "e2e", "latch.wasm"))
	if err != nil {
		return err
	}
	upload, err := uploadSize(root)
	if err != nil {
		fmt.Fprintln(stderr, "bench: wrangler deploy --dry-run:", err)
		upload = "(not measured: " + err.Error() + ")"
	}

	lp50, lp99 := percentile(latLatch, 50), percentile(latLatch, 99)
	bp50, bp99 := percentile(latBase, 50), percentile(latBase, 99)
	fmt.Fprintf(stdout, "## Edge: `POST /v1/sessions/authenticate` on workerd (wrangler dev, local D1)\n\n")
	fmt.Fprintf(stdout, "Sequential, warm: %d warm-up then %d measured requests per Worker, alternating; session_token, no session_duration_minutes.\n\n", warm, n)
	fmt.Fprintf(stdout, "| Worker | p50 | p99 |\n|---|---|---|\n")
	fmt.Fprintf(stdout, "| %s | %s | %s |\n", lt.name, ms(lp50), ms(lp99))
	fmt.Fprintf(stdout, "| %s | %s | %s |\n", bt.name, ms(bp50), ms(bp99))
	fmt.Fprintf(stdout, "\np50 ratio Latch / baseline: **%.2f×** (budget ≤ 1.25×); p99 ratio: %.2f×\n\n", ratio(lp50, bp50), ratio(lp99, bp99))
	fmt.Fprintf(stdout, "Baseline: `edge/bench/baseline.mjs`, the same SELECT (session ⋈ user ⋈ password) and throttled UPDATE as the engine, JWT signed with WebCrypto RS256 like the Latch Worker.\n\n")
	fmt.Fprintf(stdout, "## Edge: Worker upload size\n\n")
	fmt.Fprintf(stdout, "- latch.wasm: %.2f MB raw, %.2f MB gzip -9 (budget: whole upload ≤ 3 MB gzip)\n", mb(wasmRaw), mb(wasmGzip))
	fmt.Fprintf(stdout, "- `wrangler deploy --dry-run`: %s\n", upload)
	return nil
}

func setupLatch(client *http.Client, t *target) (json.RawMessage, error) {
	email := "bench-" + uuid.NewString() + "@example.com"
	u, err := post(client, t, "/v1/users", map[string]any{"email": email})
	if err != nil {
		return nil, err
	}
	ml, err := post(client, t, "/v1/magic_links", map[string]any{"user_id": u["user_id"]})
	if err != nil {
		return nil, err
	}
	a, err := post(client, t, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60})
	if err != nil {
		return nil, err
	}
	t.token, _ = a["session_token"].(string)
	s, _ := a["session"].(map[string]any)
	return json.Marshal(s["authentication_factors"])
}

func setupBaseline(client *http.Client, t *target, factors json.RawMessage) error {
	tok := make([]byte, 33)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	t.token = base64.RawURLEncoding.EncodeToString(tok)
	_, err := post(client, t, "/bench/setup", map[string]any{
		"user_id":       "user-test-" + uuid.NewString(),
		"email":         "bench-" + uuid.NewString() + "@example.com",
		"email_id":      "email-test-" + uuid.NewString(),
		"session_id":    "session-test-" + uuid.NewString(),
		"session_token": t.token,
		"factors":       factors,
	})
	return err
}

func authenticate(client *http.Client, t *target) (time.Duration, error) {
	start := time.Now()
	out, err := post(client, t, "/v1/sessions/authenticate", map[string]any{"session_token": t.token})
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.name, err)
	}
	if jwt, _ := out["session_jwt"].(string); strings.Count(jwt, ".") != 2 {
		return 0, fmt.Errorf("%s: no session_jwt in answer", t.name)
	}
	return d, nil
}

func post(client *http.Client, t *target, path string, body any) (map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, t.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(t.auth[0], t.auth[1])
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func mb(n int) float64 { return float64(n) / 1e6 }

func gzipSize(path string) (gz, raw int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(data); err != nil {
		return 0, 0, err
	}
	if err := w.Close(); err != nil {
		return 0, 0, err
	}
	return buf.Len(), len(data), nil
}

var totalUpload = regexp.MustCompile(`Total Upload: [^\n]*`)

// uploadSize asks wrangler what `wrangler deploy` would upload (it runs the
// [build] command of wrangler.toml, then stops short of uploading).
func uploadSize(root string) (string, error) {
	dir, err := os.MkdirTemp("", "latch-dry-run-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(filepath.Join(root, "node_modules", ".bin", "wrangler"), "deploy", "--dry-run", "--outdir", dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "CLOUDFLARE_CF_FETCH_ENABLED=false", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	m := totalUpload.Find(out)
	if m == nil {
		return "", errors.New("no Total Upload line in wrangler's output")
	}
	return string(m), nil
}
