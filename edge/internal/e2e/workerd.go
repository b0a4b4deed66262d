//go:build !js

// Package e2e starts the Latch Worker on real workerd (through the wrangler
// CLI pinned in package.json) for end-to-end tests and benchmarks: it builds
// the Worker, creates a throw-away local D1 database with the schema
// applied, runs `wrangler dev` on a free loopback port with fresh
// credentials, and stops the whole process group afterwards.
//
// E2e is Latch's implementation, under edge/internal: its users are its
// own tests (make e2e) and edge/bench.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/sdk"
)

// Target is a running Worker and the credentials of its project.
type Target struct {
	URL       string
	ProjectID string
	Secret    string
}

// Options describe the Worker to start. The zero value starts Latch with
// fresh credentials.
type Options struct {
	// Root is the repository root; found from the working directory when
	// empty.
	Root string
	// Main is the Worker entry module; the Latch build when empty.
	Main string
	// Name is the Worker name; "latch-e2e" when empty.
	Name string
	// Vars replaces the generated settings (LATCH_PROJECT_ID,
	// LATCH_PROJECT_SECRET, LATCH_SIGNING_KEYS, LATCH_SECRET_BOX_KEY) when
	// non-nil, e.g. to start a misconfigured Worker.
	Vars map[string]string
	// MoreVars are added to the settings (generated or Vars), and kept
	// across Restart: the mail settings, for instance.
	MoreVars map[string]string
	// SDKOrigins, when set, turns on the surface Stytch's frontend SDKs
	// call (/sdk/v1) for pages of these origins: LATCH_SDK_ORIGINS, and a
	// fresh LATCH_PUBLIC_TOKEN of the project (Worker.PublicToken), are
	// added to the settings and kept across Restart. MoreVars naming
	// either wins.
	SDKOrigins []string
	// OAuthProviders, when set, is the social login providers document,
	// LATCH_OAUTH_PROVIDERS (edge/README.md, "Social login"): a JSON list
	// of providers, which the Worker reads as oauth.ParseProviders does.
	// It is added to the settings with a fresh LATCH_PUBLIC_TOKEN of the
	// project (Worker.PublicToken), which social login needs, and kept
	// across Restart; MoreVars naming either wins. It must not hold a
	// single quote or a newline (see envFileContent).
	OAuthProviders string
	// BaseURL, when set, is LATCH_BASE_URL, the origin the OAuth callback
	// is registered under ("http://127.0.0.1:<Port>" names the Worker
	// itself: pick Port first with ReservePort); unset, the Worker's
	// callback is on the host each start request came to. Kept across
	// Restart; MoreVars naming it wins.
	BaseURL string
	// MailTo, when set, restricts the send_email binding to these
	// recipients (allowed_destination_addresses): sending elsewhere is
	// refused, as Cloudflare's binding refuses it.
	MailTo []string
	// LoginLimit, when positive, gives the Worker the login page's Rate
	// Limiting binding LOGIN_LIMIT, allowing this many posts a minute per
	// client.
	LoginLimit int
	// Port is the loopback port to serve on; a free one when zero. A test
	// that must name the Worker's URL in its settings (the login page's
	// LATCH_LOGIN_URL) picks it first.
	Port int
	// Log receives wrangler's output; discarded when nil.
	Log io.Writer
	// Untouched, when set, has New and Restart return once wrangler says
	// it is ready ("Ready on …"), without sending the Worker a request,
	// so that the first request the caller makes is the isolate's first
	// (a cold start, edge/bench -coldstart). Otherwise they return once
	// the Worker itself answers.
	Untouched bool
}

// Worker is a running `wrangler dev`.
type Worker struct {
	Target
	// Keys are the signing keys the Worker was given (nil when
	// Options.Vars replaced them).
	Keys []keys.Key
	// SecretBoxKey is the LATCH_SECRET_BOX_KEY the Worker was given,
	// decoded (nil when Options.Vars replaced it): a keys.SecretBox over
	// it opens what the Worker sealed.
	SecretBoxKey []byte
	// PublicToken is the LATCH_PUBLIC_TOKEN the Worker was given with
	// Options.SDKOrigins or Options.OAuthProviders, or "".
	PublicToken string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string
	done  chan struct{}
	once  sync.Once

	// What a restart needs to run wrangler dev again in the same place.
	cfg, envFile, persist, wrangler string
	port, inspector                 int
	log                             io.Writer
	readyLines                      *lineCounter // with Options.Untouched
	moreVars                        map[string]string
	releases                        []func() // of the ports it reserved
}

// supervise runs wrangler in the background and stops its whole process
// group (wrangler, workerd and itself) when wrangler exits or when its
// standard input closes: on Close, or when the test process dies in any
// way, even by SIGKILL, so no workerd outlives the test.
const supervise = `exec 3<&0
"$@" 3<&- </dev/null &
w=$!
{ read _ <&3; kill -TERM $w; sleep 5; kill -KILL 0; } &
wait $w
kill -KILL 0`

// startTimeout bounds how long wrangler may take to answer.
const startTimeout = 2 * time.Minute

// New builds (once per process) and starts a Worker. Call Close to stop
// it.
func New(ctx context.Context, opts Options) (*Worker, error) {
	root := opts.Root
	if root == "" {
		r, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		root = r
	}
	// Before the build, which takes a while on a cold cache.
	wrangler, err := wranglerPath(root)
	if err != nil {
		return nil, err
	}
	main := opts.Main
	if main == "" {
		m, err := Build(root)
		if err != nil {
			return nil, err
		}
		main = m
	}
	dir, err := os.MkdirTemp("", "latch-workerd-")
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	w := &Worker{dir: dir, wrangler: wrangler}
	if err := w.start(ctx, root, main, opts); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *Worker) start(ctx context.Context, root, main string, opts Options) error {
	vars := opts.Vars
	if vars == nil {
		var err error
		if vars, w.Keys, err = freshVars(); err != nil {
			return err
		}
		if w.SecretBoxKey, err = base64.RawURLEncoding.DecodeString(vars[secretBoxVar]); err != nil {
			return fmt.Errorf("e2e: %w", err)
		}
	}
	// The Worker runs from a copy of its modules in its own directory,
	// which nothing else writes (see stageModules).
	entry, err := stageModules(filepath.Join(w.dir, "worker"), main)
	if err != nil {
		return err
	}
	// Another entry module (a baseline, an older build) may not export
	// the feed's Durable Object class.
	feed := opts.Main == ""
	if w.cfg, err = writeConfig(w.dir, root, entry, opts, feed); err != nil {
		return err
	}
	w.envFile, w.persist = filepath.Join(w.dir, "vars.env"), filepath.Join(w.dir, "state")
	w.log, w.moreVars = opts.Log, extraVars(opts, vars["LATCH_PROJECT_ID"])
	w.PublicToken = w.moreVars[publicTokenVar]
	if w.log == nil {
		w.log = io.Discard
	}
	if opts.Untouched {
		w.readyLines = &lineCounter{marker: "Ready on http://"}
		w.log = io.MultiWriter(w.log, w.readyLines)
	}
	migrate := exec.CommandContext(ctx, w.wrangler, "d1", "migrations", "apply", "DB", "--local",
		"--persist-to", w.persist, "-c", w.cfg)
	migrate.Dir, migrate.Env = w.dir, wranglerEnv(w.dir)
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("e2e: wrangler d1 migrations apply: %w\n%s", err, out)
	}
	if w.port = opts.Port; w.port == 0 {
		var release func()
		if w.port, release, err = ReservePort(); err != nil {
			return err
		}
		w.releases = append(w.releases, release)
	}
	var release func()
	if w.inspector, release, err = ReservePort(); err != nil {
		return err
	}
	w.releases = append(w.releases, release)
	w.URL = "http://127.0.0.1:" + strconv.Itoa(w.port)
	return w.launch(ctx, vars)
}

// The SDK surface's settings (edge/sdkconfig.go) and social login's
// (edge/oauthconfig.go).
const (
	publicTokenVar    = "LATCH_PUBLIC_TOKEN"
	sdkOriginsVar     = "LATCH_SDK_ORIGINS"
	oauthProvidersVar = "LATCH_OAUTH_PROVIDERS"
	baseURLVar        = "LATCH_BASE_URL"
)

// extraVars returns opts.MoreVars with the settings opts names otherwise
// added beneath them: with opts.SDKOrigins, the SDK surface's for the
// project projectID; with opts.OAuthProviders and opts.BaseURL, social
// login's.
func extraVars(opts Options, projectID string) map[string]string {
	more := map[string]string{}
	if len(opts.SDKOrigins) > 0 || opts.OAuthProviders != "" {
		more[publicTokenVar] = sdk.NewPublicToken(projectID)
	}
	if len(opts.SDKOrigins) > 0 {
		more[sdkOriginsVar] = strings.Join(opts.SDKOrigins, ",")
	}
	if opts.OAuthProviders != "" {
		more[oauthProvidersVar] = opts.OAuthProviders
	}
	if opts.BaseURL != "" {
		more[baseURLVar] = opts.BaseURL
	}
	if len(more) == 0 {
		return opts.MoreVars
	}
	for k, v := range opts.MoreVars {
		more[k] = v
	}
	return more
}

// launch runs wrangler dev with vars and waits until the Worker answers.
func (w *Worker) launch(ctx context.Context, vars map[string]string) error {
	w.ProjectID, w.Secret = vars["LATCH_PROJECT_ID"], vars["LATCH_PROJECT_SECRET"]
	if len(w.moreVars) > 0 {
		all := make(map[string]string, len(vars)+len(w.moreVars))
		for k, v := range vars {
			all[k] = v
		}
		for k, v := range w.moreVars {
			all[k] = v
		}
		vars = all
	}
	env, err := envFileContent(vars)
	if err != nil {
		return err
	}
	if err := os.WriteFile(w.envFile, env, 0o600); err != nil {
		return fmt.Errorf("e2e: %w", err)
	}
	args := []string{"-c", supervise, "latch-workerd", w.wrangler, "dev", "-c", w.cfg,
		"--ip", "127.0.0.1", "--port", strconv.Itoa(w.port),
		"--inspector-ip", "127.0.0.1", "--inspector-port", strconv.Itoa(w.inspector),
		"--persist-to", w.persist, "--env-file", w.envFile,
		"--show-interactive-dev-session=false", "--live-reload=false"}
	readyBefore := 0
	if w.readyLines != nil {
		readyBefore = w.readyLines.count()
	}
	w.cmd = exec.Command("/bin/sh", args...)
	w.cmd.Dir, w.cmd.Env = w.dir, wranglerEnv(w.dir)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	w.cmd.WaitDelay = 10 * time.Second
	// Its own process group, so that wrangler and workerd stop together.
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		return fmt.Errorf("e2e: %w", err)
	}
	if err := w.cmd.Start(); err != nil {
		return fmt.Errorf("e2e: wrangler dev: %w", err)
	}
	done := make(chan struct{})
	w.done = done
	go func() {
		_ = w.cmd.Wait()
		close(done)
	}()
	if w.readyLines != nil {
		return w.waitReadyLine(ctx, readyBefore)
	}
	return w.waitReady(ctx)
}

// waitReadyLine waits until wrangler has said it is ready more than
// before times (Options.Untouched).
func (w *Worker) waitReadyLine(ctx context.Context, before int) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for w.readyLines.count() <= before {
		select {
		case <-w.done:
			return errors.New("e2e: wrangler dev exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("e2e: wrangler dev did not say it was ready on %s: %w", w.URL, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// lineCounter counts the lines written to it that hold marker.
type lineCounter struct {
	marker string
	mu     sync.Mutex
	lines  lineBuffer
	n      int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines.add(p, func(line []byte) {
		if bytes.Contains(line, []byte(c.marker)) {
			c.n++
		}
	})
	return len(p), nil
}

func (c *lineCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// InspectorURL is the base URL of the Worker's V8 inspector (wrangler's
// inspector proxy): GET InspectorURL + "/json" lists its debugging targets,
// for a CPU profile (edge/bench -profile).
func (w *Worker) InspectorURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(w.inspector)
}

// Restart stops wrangler and workerd and starts them again on the same
// address and the same local D1 state (and Options.MoreVars, and the same
// LATCH_SECRET_BOX_KEY, if it had one), with keys as LATCH_SIGNING_KEYS:
// what an operator's key rotation does to a deployed Worker.
func (w *Worker) Restart(ctx context.Context, ks []keys.Key) error {
	set, err := keys.MarshalSet(ks)
	if err != nil {
		return fmt.Errorf("e2e: %w", err)
	}
	w.stop()
	w.Keys = ks
	vars := map[string]string{
		"LATCH_PROJECT_ID": w.ProjectID, "LATCH_PROJECT_SECRET": w.Secret, "LATCH_SIGNING_KEYS": string(set),
	}
	if w.SecretBoxKey != nil {
		vars[secretBoxVar] = base64.RawURLEncoding.EncodeToString(w.SecretBoxKey)
	}
	return w.launch(ctx, vars)
}

// stop stops the running wrangler dev and its process group.
func (w *Worker) stop() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	_ = w.stdin.Close() // the supervisor stops the group
	select {
	case <-w.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
		<-w.done
	}
}

// waitReady polls until the Worker itself answers: any JSON body with a
// status_code, which Latch sends even when misconfigured; and when the
// Worker was given signing keys, a JWKS naming its first key, so that
// another Worker that came to answer on this port is never taken for it.
func (w *Worker) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	url := w.URL + "/v1/sessions/jwks/" + w.ProjectID
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("e2e: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			var body struct {
				StatusCode *int `json:"status_code"`
				Keys       []struct {
					KID string `json:"kid"`
				} `json:"keys"`
			}
			err := json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && body.StatusCode != nil {
				if len(w.Keys) == 0 || slices.ContainsFunc(body.Keys, func(k struct {
					KID string `json:"kid"`
				}) bool {
					return k.KID == w.Keys[0].KID
				}) {
					return nil
				}
				return fmt.Errorf("e2e: another Worker answers on %s", w.URL)
			}
		}
		select {
		case <-w.done:
			return errors.New("e2e: wrangler dev exited before the Worker answered")
		case <-ctx.Done():
			return fmt.Errorf("e2e: Worker did not answer on %s: %w", w.URL, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Close stops wrangler and workerd (the whole process group) and removes
// the Worker's state.
func (w *Worker) Close() error {
	w.once.Do(func() {
		w.stop()
		for _, release := range w.releases {
			release()
		}
		_ = os.RemoveAll(w.dir)
	})
	return nil
}

// secretBoxVar is the Worker's secret box key: 32 bytes, unpadded
// base64url.
const secretBoxVar = "LATCH_SECRET_BOX_KEY"

// freshVars returns new test credentials, signing keys and secret box
// key.
func freshVars() (map[string]string, []keys.Key, error) {
	p, err := keys.NewProject(rand.Reader, "test")
	if err != nil {
		return nil, nil, fmt.Errorf("e2e: %w", err)
	}
	set, err := keys.MarshalSet(p.Keys)
	if err != nil {
		return nil, nil, fmt.Errorf("e2e: %w", err)
	}
	box, err := keys.NewSecretKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("e2e: %w", err)
	}
	return map[string]string{
		"LATCH_PROJECT_ID":     p.ID,
		"LATCH_PROJECT_SECRET": p.Secret,
		"LATCH_SIGNING_KEYS":   string(set),
		secretBoxVar:           base64.RawURLEncoding.EncodeToString(box),
	}, p.Keys, nil
}

// envFileContent renders vars for --env-file. Values are single-quoted so
// dotenv keeps JSON verbatim; a value holding a single quote or a newline,
// which that quoting cannot carry, is an error.
func envFileContent(vars map[string]string) ([]byte, error) {
	var b bytes.Buffer
	for k, v := range vars {
		if strings.ContainsAny(v, "'\r\n") {
			return nil, fmt.Errorf("e2e: the value of %s holds a single quote or a newline, which --env-file cannot carry", k)
		}
		fmt.Fprintf(&b, "%s='%s'\n", k, v)
	}
	return b.Bytes(), nil
}

// wranglerEnv is the environment for wrangler: no metrics, no network
// look-ups, its config and logs kept in dir.
func wranglerEnv(dir string) []string {
	return append(os.Environ(),
		"WRANGLER_SEND_METRICS=false",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"WRANGLER_LOG_PATH="+filepath.Join(dir, "logs"),
		"NO_COLOR=1",
	)
}

// wranglerPath returns the wrangler CLI that npm ci installs under root,
// or an error saying how to install it.
func wranglerPath(root string) (string, error) {
	p := filepath.Join(root, "node_modules", ".bin", "wrangler")
	if !fileExists(p) {
		return "", fmt.Errorf("e2e: wrangler is not installed (%s); `make test` installs it with npm ci", p)
	}
	return p, nil
}

// RepoRoot walks up from the working directory to the directory holding
// wrangler.toml and go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	for {
		if fileExists(filepath.Join(dir, "wrangler.toml")) && fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: repository root (wrangler.toml) not found")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

var compatDate = regexp.MustCompile(`(?m)^compatibility_date\s*=\s*"([0-9-]+)"`)

// writeConfig writes a wrangler config for the test Worker: the same
// compatibility date, D1 binding, send_email binding and (with feed) the
// revocation feed's Durable Object as wrangler.toml
// (which wrangler dev simulates by writing each message to an .eml file
// and logging its path), but an absolute entry
// point, no [build] step and no bundling, so a test runs exactly the
// build it made.
func writeConfig(dir, root, main string, opts Options, feed bool) (string, error) {
	name, mailTo := opts.Name, opts.MailTo
	toml, err := os.ReadFile(filepath.Join(root, "wrangler.toml"))
	if err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	m := compatDate.FindSubmatch(toml)
	if m == nil {
		return "", errors.New("e2e: wrangler.toml has no compatibility_date")
	}
	if name == "" {
		name = "latch-e2e"
	}
	cfg := map[string]any{
		"name":               name,
		"main":               main,
		"compatibility_date": string(m[1]),
		// No bundling: wrangler hands the staged modules to workerd as
		// they are (see stageModules).
		"no_bundle": true,
		"rules": []any{
			map[string]any{"type": "CompiledWasm", "globs": []string{"**/*.wasm"}, "fallthrough": false},
			map[string]any{"type": "ESModule", "globs": []string{"**/*.mjs", "**/*.js"}, "fallthrough": false},
		},
		"d1_databases": []any{map[string]any{
			"binding":        "DB",
			"database_name":  "latch",
			"database_id":    "00000000-0000-0000-0000-000000000000",
			"migrations_dir": filepath.Join(root, "wasm", "migrations"),
		}},
		"send_email": []any{map[string]any{"name": "MAIL"}},
	}
	if feed {
		cfg["durable_objects"] = map[string]any{"bindings": []any{
			map[string]any{"name": "REVOCATIONS", "class_name": "RevocationFeed"},
		}}
		cfg["migrations"] = []any{map[string]any{"tag": "v1", "new_sqlite_classes": []string{"RevocationFeed"}}}
	}
	if opts.LoginLimit > 0 {
		cfg["ratelimits"] = []any{map[string]any{"name": "LOGIN_LIMIT", "namespace_id": "1001",
			"simple": map[string]any{"limit": opts.LoginLimit, "period": 60}}}
	}
	if mailTo != nil {
		cfg["send_email"] = []any{map[string]any{"name": "MAIL", "allowed_destination_addresses": mailTo}}
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	p := filepath.Join(dir, "wrangler.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	return p, nil
}

// entryModule is the entry module stageModules writes beside the
// Worker's own: the Worker, with what `wrangler dev` adds to every Worker
// it bundles (its middleware-ensure-req-body-drained): a request body the
// Worker did not read (a body refused as too large, say) is read to its end
// before the response goes, without which workerd leaves the next request
// on the same connection waiting. Cloudflare needs no such thing.
const entryModule = `import worker from "./%s";
export * from "./%s";

export default {
  ...worker,
  async fetch(request, env, ctx) {
    try {
      return await worker.fetch(request, env, ctx);
    } finally {
      if (request.body !== null && !request.bodyUsed) {
        try {
          const reader = request.body.getReader();
          while (!(await reader.read()).done) {}
        } catch {}
      }
    }
  },
};
`

// stageModules copies the modules of the Worker whose entry module is main
// (the .mjs, .js and .wasm files of its directory) into dir, writes the
// entry module (entryModule) there, and returns its path.
//
// wrangler dev runs it unbundled: no esbuild watches the files a test
// runs and the directories around them, nothing else ever writes dir, so
// the Worker never reloads under a test (a reload makes wrangler's proxy
// answer a request in flight 503 "Your worker restarted mid-request", which
// Transport can then take for a lost connection and send again).
func stageModules(dir, main string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	src := filepath.Dir(main)
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".mjs", ".js", ".wasm":
		default:
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return "", fmt.Errorf("e2e: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return "", fmt.Errorf("e2e: %w", err)
		}
	}
	base := filepath.Base(main)
	entry := filepath.Join(dir, "e2e-entry.mjs")
	if err := os.WriteFile(entry, fmt.Appendf(nil, entryModule, base, base), 0o644); err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	return entry, nil
}

var (
	buildOnce sync.Once
	buildMain string
	buildErr  error
)

// Build compiles the Worker New runs into edge/build/e2e under root, once
// per process, and returns the path of its entry module, beside which are
// latch.wasm and wasm_exec.js.
func Build(root string) (string, error) {
	buildOnce.Do(func() { buildMain, buildErr = build(root, "-s -w") })
	return buildMain, buildErr
}

// BuildWithNames compiles the Worker as Build does but keeps the
// Wasm's name section (no -s -w), so that a V8 CPU profile names Go's
// functions, and returns the path of its entry module, for Options.Main.
// It is not the build that is deployed: the names add about 0.2 MB.
func BuildWithNames(root string) (string, error) {
	return build(root, "")
}

// build compiles the Worker into a directory of its own under
// edge/build/e2e named by the hash of its three files, and returns its
// entry module. A directory, once written, is never written again: wrangler
// dev reloads a Worker whose files change, so a build by another test
// process (go test runs packages side by side, and the conformance
// self-test runs this package again) must never touch the files of a
// Worker that is running; the same sources reuse the same directory.
func build(root, ldflags string) (string, error) {
	out := filepath.Join(root, "edge", "build", "e2e")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("e2e: the Go toolchain is needed to build the Worker: %w", err)
	}
	tmp, err := os.MkdirTemp(out, "build-")
	if err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags="+ldflags, "-o", filepath.Join(tmp, "latch.wasm"), "./edge")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: build worker: %w\n%s", err, b)
	}
	goroot, err := goEnv(goBin, root, "GOROOT")
	if err != nil {
		return "", err
	}
	for _, c := range []struct{ from, to string }{
		{from: filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), to: "wasm_exec.js"},
		{from: filepath.Join(root, "edge", "worker.mjs"), to: "worker.mjs"},
	} {
		data, err := os.ReadFile(c.from)
		if err != nil {
			return "", fmt.Errorf("e2e: %w", err)
		}
		if err := os.WriteFile(filepath.Join(tmp, c.to), data, 0o644); err != nil {
			return "", fmt.Errorf("e2e: %w", err)
		}
	}
	h := sha256.New()
	for _, name := range []string{"latch.wasm", "wasm_exec.js", "worker.mjs"} {
		data, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			return "", fmt.Errorf("e2e: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	dir := filepath.Join(out, hex.EncodeToString(h.Sum(nil))[:16])
	main := filepath.Join(dir, "worker.mjs")
	dropOldBuilds(out, dir)
	if fileExists(main) {
		return main, nil
	}
	// Renaming the directory into place is atomic: a process that loses
	// the race finds the winner's, with the same content.
	if err := os.Rename(tmp, dir); err != nil && !fileExists(main) {
		return "", fmt.Errorf("e2e: %w", err)
	}
	return main, nil
}

// dropOldBuilds removes the builds in out, but keep, not used for a day:
// a build is used by the Workers started within minutes of it.
func dropOldBuilds(out, keep string) {
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		p := filepath.Join(out, e.Name())
		if fi, err := e.Info(); err == nil && e.IsDir() && p != keep && time.Since(fi.ModTime()) > 24*time.Hour {
			_ = os.RemoveAll(p)
		}
	}
}

func goEnv(goBin, dir, name string) (string, error) {
	cmd := exec.Command(goBin, "env", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("e2e: go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
