//go:build !js

// Command bench measures Latch on its three hosts in one run (`make bench`):
// magic-link authentication with a session mint, and sessions/authenticate,
// on the native engine (net/http, SQLite), the wazero host (testharness) and
// workerd (the Worker under wrangler dev, local D1), sequential and warm,
// as ratios to native; sessions/authenticate, and a code login
// (otps/authenticate with a session mint, otps.go), on workerd next to
// baseline.mjs, a plain JavaScript Worker issuing the same D1 statements and
// signing with WebCrypto (-calls runs some of these sequential calls
// alone); the size of the upload; and a load sweep of
// sessions/authenticate at c = 1, 4, 16 and 64 on Latch (workerd and
// wazero) and the baseline (sweep.go; -sweep runs it alone); and the
// revocation feed's latency from a revoke, and from an M2M client's
// deactivation, to every long-polling reader (revocations.go, m2m.go;
// -revocations runs it alone); and the cold start, the first request of a
// fresh isolate of the Latch Worker and of the baseline (coldstart.go;
// -coldstart runs it alone). It prints a Markdown report. -profile takes a
// V8 CPU profile of the Latch Worker instead (profile.go).
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
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"

	"github.com/latchauth/latch/edge/internal/e2e"
	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/keys"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	warm := fl.Int("warmup", 20, "warm-up requests per target and call")
	n := fl.Int("n", 200, "measured requests per target and call")
	var others []string
	fl.Func("b", "entry module (worker.mjs beside wasm_exec.js and latch.wasm) of another Latch build to measure next to this one on workerd, e.g. an older commit's, in sessions/authenticate and in the load sweep (with its CPU per request); repeatable", func(s string) error {
		others = append(others, s)
		return nil
	})
	sw := sweepConfig{}
	fl.BoolVar(&sw.only, "sweep", false, "run only the load sweep (Latch on workerd and on wazero, and the JS baseline Worker, at c = 1, 4, 16, 64)")
	fl.DurationVar(&sw.warm, "sweep-warmup", 2*time.Second, "warm-up time per host and level of the load sweep")
	fl.DurationVar(&sw.dur, "sweep-time", 8*time.Second, "measured time per host and level of the load sweep")
	fl.Func("sweep-c", "comma-separated concurrency levels of the load sweep (default 1,4,16,64)", func(v string) error {
		sw.levels = nil
		for _, f := range strings.Split(v, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || c < 1 {
				return fmt.Errorf("bad level %q", f)
			}
			sw.levels = append(sw.levels, c)
		}
		return nil
	})
	// The full run: every call, and the rest of the benchmark.
	calls := callSet{sessions: true, sessionsJWT: true, magicLinks: true, otps: true}
	fl.Func("calls", "run only these sequential calls, comma-separated, and nothing else of the run (no upload size, load sweep, revocation feed or cold start): sessions (sessions/authenticate on every host, the JS baselines and the -b builds), sessions_jwt (the same call by session_jwt), magic_links (magic_links/authenticate + session mint on native, wazero and workerd), otps (otps/authenticate + session mint, the Latch Worker against the JS baseline); e.g. -calls otps -n 20 -warmup 5", func(v string) error {
		c, err := parseCalls(v)
		calls = c
		return err
	})
	rv := registerRevocations(fl)
	prof := registerProfile(fl)
	cold := registerColdStart(fl)
	wranglerLog := fl.String("wrangler-log", "", "file to append the output of every wrangler dev to (discarded when empty)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if cold.only {
		if err := cold.run(stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	if prof.only {
		if err := prof.run(stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	if rv.only {
		if err := rv.run(stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	if *wranglerLog != "" {
		f, err := os.OpenFile(*wranglerLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		sw.log = f
	}
	if err := bench(stdout, stderr, *warm, *n, others, sw, calls); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if !sw.only && !calls.only {
		if err := rv.run(stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		if err := cold.run(stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	return 0
}

// target is one server under test and the session the benchmark uses on it.
type target struct {
	name  string
	base  string
	auth  [2]string
	user  string // user_id, for minting magic links
	token string // session_token of a live session
	jwt   string // a session_jwt of that session
	// path of the sessions/authenticate call (the baseline serves a
	// variant under another path).
	authPath string
	lat      map[string][]time.Duration
	// cpu is the CPU its workerd processes used during the measured calls
	// of each call, summed (every thread, read around each call); only
	// for targets with pids.
	cpu map[string]time.Duration
	// codes are the prepared codes of the code login, used in order.
	codes []otpCode
	// otpSession is the session_token of the last code login.
	otpSession string
	// pids are the target's server processes, for CPU accounting (the
	// workerd processes of a Worker); none for in-process hosts.
	pids []int
}

// The calls measured.
const (
	callSessions    = "sessions/authenticate"
	callSessionsJWT = "sessions/authenticate by JWT"
	callMagicLink   = "magic_links/authenticate + session mint"
)

// callSet is the -calls part of the command line: the sequential calls
// measured, and whether they are measured alone.
type callSet struct {
	sessions, sessionsJWT, magicLinks, otps bool
	only                                    bool
}

// parseCalls reads a -calls list.
func parseCalls(v string) (callSet, error) {
	c := callSet{only: true}
	for _, f := range strings.Split(v, ",") {
		switch strings.TrimSpace(f) {
		case "sessions":
			c.sessions = true
		case "sessions_jwt":
			c.sessionsJWT = true
		case "magic_links":
			c.magicLinks = true
		case "otps":
			c.otps = true
		default:
			return c, fmt.Errorf("unknown call %q (sessions, sessions_jwt, magic_links, otps)", f)
		}
	}
	return c, nil
}

// sweepConfig is the load sweep's part of the command line.
type sweepConfig struct {
	only      bool // the sweep alone
	warm, dur time.Duration
	levels    []int     // sweepLevels when nil
	log       io.Writer // wrangler's output; discarded when nil
}

func bench(stdout, stderr io.Writer, warm, n int, others []string, sw sweepConfig, calls callSet) error {
	ctx := context.Background()
	root, err := e2e.RepoRoot()
	if err != nil {
		return err
	}

	if !sw.only && !calls.sessions && !calls.sessionsJWT {
		others = nil
	}
	fmt.Fprintln(stderr, "bench: starting the native engine (httptest, SQLite)…")
	native, closeNative, err := startNative()
	if err != nil {
		return fmt.Errorf("native: %w", err)
	}
	defer closeNative()

	fmt.Fprintln(stderr, "bench: starting the wazero host (testharness)…")
	wz, err := testharness.New(testharness.Config{})
	if err != nil {
		return fmt.Errorf("wazero: %w", err)
	}
	defer wz.Close()

	fmt.Fprintln(stderr, "bench: starting the Latch Worker on workerd…")
	latch, err := e2e.New(ctx, e2e.Options{Root: root, Log: sw.log})
	if err != nil {
		return err
	}
	defer latch.Close()
	set, err := keys.MarshalSet(latch.Keys)
	if err != nil {
		return err
	}
	// Every Worker of the run serves the same project with the same keys.
	sameProject := map[string]string{
		"LATCH_PROJECT_ID":     latch.ProjectID,
		"LATCH_PROJECT_SECRET": latch.Secret,
		"LATCH_SIGNING_KEYS":   string(set),
	}
	fmt.Fprintln(stderr, "bench: starting the baseline Worker on workerd…")
	base, err := e2e.New(ctx, e2e.Options{
		Root: root,
		Main: filepath.Join(root, "edge", "bench", "baseline.mjs"),
		Name: "latch-baseline",
		Vars: sameProject,
		Log:  sw.log,
	})
	if err != nil {
		return err
	}
	defer base.Close()
	var ots []*target
	for i, other := range others {
		fmt.Fprintln(stderr, "bench: starting the other Latch build", other, "on workerd…")
		w, err := e2e.New(ctx, e2e.Options{
			Root: root, Main: other, Name: fmt.Sprintf("latch-b%d", i+1),
			Vars: sameProject,
		})
		if err != nil {
			return err
		}
		defer w.Close()
		ot := newTarget(fmt.Sprintf("workerd (Latch, -b build %d: %s)", i+1, other), e2e.Target{URL: w.URL, ProjectID: latch.ProjectID, Secret: latch.Secret})
		if ot.pids, err = w.WorkerdPIDs(); err != nil {
			fmt.Fprintln(stderr, "bench: no CPU accounting for", ot.name+":", err)
		}
		ots = append(ots, ot)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	nt := newTarget("native (Go, SQLite)", native)
	wt := newTarget("wazero (wasip1 guest)", e2e.Target{URL: wz.URL, ProjectID: wz.ProjectID, Secret: wz.Secret})
	lt := newTarget("workerd (Latch, Go/Wasm)", latch.Target)
	bt := newTarget("workerd (JS baseline)", e2e.Target{URL: base.URL, ProjectID: latch.ProjectID, Secret: latch.Secret})
	ct := newTarget("workerd (JS baseline, 22 cells)", e2e.Target{URL: base.URL, ProjectID: latch.ProjectID, Secret: latch.Secret})
	ct.authPath = "/bench/authenticate-cells"
	latchTargets := []*target{nt, wt, lt}
	var factors json.RawMessage
	for _, t := range latchTargets {
		if factors, err = setupLatch(client, t); err != nil {
			return fmt.Errorf("%s setup: %w", t.name, err)
		}
	}
	if err := setupBaseline(client, bt, factors); err != nil {
		return fmt.Errorf("baseline setup: %w", err)
	}
	ct.token = bt.token
	for _, p := range []struct {
		t *target
		w *e2e.Worker
	}{{t: lt, w: latch}, {t: bt, w: base}} {
		if p.t.pids, err = p.w.WorkerdPIDs(); err != nil {
			fmt.Fprintln(stderr, "bench: no CPU accounting for", p.t.name+":", err)
		}
	}
	for _, ot := range ots {
		if _, err := setupLatch(client, ot); err != nil {
			return fmt.Errorf("%s setup: %w", ot.name, err)
		}
	}
	if sw.only {
		return runSweep(stdout, stderr, append([]*target{lt, bt, wt}, ots...), bt, sw)
	}
	all := append([]*target{nt, wt, lt, bt, ct}, ots...)

	if calls.sessions {
		if err := measure(all, callSessions, warm, n, client, authenticate); err != nil {
			return err
		}
	}
	if calls.sessionsJWT {
		for _, t := range all {
			if t == ct {
				continue // the baseline's session
			}
			if err := sessionJWT(client, t); err != nil {
				return err
			}
		}
		ct.jwt = bt.jwt
		if err := measure(all, callSessionsJWT, warm, n, client, authenticateJWT); err != nil {
			return err
		}
	}
	if calls.magicLinks {
		if err := measure(latchTargets, callMagicLink, warm, n, client, magicLinkLogin); err != nil {
			return err
		}
	}
	if calls.otps {
		fmt.Fprintf(stderr, "bench: preparing %d codes on the Latch Worker and on the baseline…\n", warm+n)
		if err := prepareOTPs(ctx, client, latch, lt, bt, warm+n); err != nil {
			return fmt.Errorf("code login setup: %w", err)
		}
		if err := measure([]*target{lt, bt}, callOTP, warm, n, client, otpLogin); err != nil {
			return err
		}
		for _, t := range []*target{lt, bt} {
			if err := checkOTPSession(client, t); err != nil {
				return err
			}
		}
	}

	var wasmGzip, wasmRaw int
	var upload string
	if !calls.only {
		built, err := e2e.Build(root)
		if err != nil {
			return err
		}
		if wasmGzip, wasmRaw, err = gzipSize(filepath.Join(filepath.Dir(built), "latch.wasm")); err != nil {
			return err
		}
		if upload, err = uploadSize(root); err != nil {
			fmt.Fprintln(stderr, "bench: wrangler deploy --dry-run:", err)
			upload = "(not measured: " + err.Error() + ")"
		}
	}

	if calls.sessions || calls.sessionsJWT || calls.magicLinks {
		reportHosts(stdout, warm, n, calls, nt, wt, lt)
	}
	if calls.sessions {
		reportEdgeSessions(stdout, callSessions, append([]*target{lt, bt, ct}, ots...))
	}
	if calls.sessionsJWT {
		reportEdgeSessions(stdout, callSessionsJWT, append([]*target{lt, bt, ct}, ots...))
	}
	if calls.otps {
		reportOTP(stdout, lt, bt)
	}
	if calls.only {
		return nil
	}
	fmt.Fprintf(stdout, "## Edge: Worker upload size\n\n")
	fmt.Fprintf(stdout, "- latch.wasm: %.2f MB raw, %.2f MB gzip -9 (budget: whole upload ≤ 3 MB gzip)\n", mb(wasmRaw), mb(wasmGzip))
	fmt.Fprintf(stdout, "- `wrangler deploy --dry-run`: %s\n\n", upload)
	return runSweep(stdout, stderr, append([]*target{lt, bt, wt}, ots...), bt, sw)
}

// reportHosts prints the three hosts' table of the calls measured.
func reportHosts(stdout io.Writer, warm, n int, calls callSet, nt, wt, lt *target) {
	fmt.Fprintf(stdout, "## Latch on three hosts: native, wazero, workerd\n\n")
	fmt.Fprintf(stdout, "Sequential, warm, one keep-alive connection per host over loopback: %d warm-up then %d measured requests per host and call, each round sends one request to every host in a fresh random order. Ratios are to native, same statistic.\n\n", warm, n)
	fmt.Fprintf(stdout, "| call | host | p50 | p99 | mean | p50 × native | mean × native |\n|---|---|---|---|---|---|---|\n")
	for _, call := range []string{callMagicLink, callSessions, callSessionsJWT} {
		if call == callMagicLink && !calls.magicLinks || call == callSessions && !calls.sessions || call == callSessionsJWT && !calls.sessionsJWT {
			continue
		}
		ref := summarize(nt.lat[call])
		for _, t := range []*target{nt, wt, lt} {
			s := summarize(t.lat[call])
			fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s | %.2f× | %.2f× |\n", call, t.name, ms(s.p50), ms(s.p99), ms(s.mean), ratio(s.p50, ref.p50), ratio(s.mean, ref.mean))
		}
	}
	fmt.Fprintln(stdout)
	if calls.magicLinks {
		fmt.Fprintf(stdout, "%s: magic link created before each timed call (untimed); the timed call consumes it and mints a 60-minute session and its JWT.\n", callMagicLink)
	}
	if calls.sessions {
		fmt.Fprintf(stdout, "%s: session_token, no session_duration_minutes (the last_accessed_at write happens at most once a minute).\n", callSessions)
	}
	if calls.sessionsJWT {
		fmt.Fprintf(stdout, "%s: the same session's session_jwt in place of its token; its signature is checked on every call.\n", callSessionsJWT)
	}
	fmt.Fprintln(stdout)
}

// reportEdgeSessions prints sessions/authenticate on workerd: edge holds
// the Latch Worker, the baseline, its 22-cell variant and the -b builds,
// in that order.
func reportEdgeSessions(stdout io.Writer, call string, edge []*target) {
	lt, bt, ct := edge[0], edge[1], edge[2]
	ls, bs, cs := summarize(lt.lat[call]), summarize(bt.lat[call]), summarize(ct.lat[call])
	by := "session_token"
	if call == callSessionsJWT {
		by = "session_jwt (its RS256 signature checked: in Go by Latch, with WebCrypto by the baseline)"
	}
	fmt.Fprintf(stdout, "## Edge: `POST /v1/sessions/authenticate` by %s on workerd (wrangler dev, local D1)\n\n", by)
	fmt.Fprintf(stdout, "| Worker | p50 | p99 | mean | p50 × JS baseline |\n|---|---|---|---|---|\n")
	for _, t := range edge {
		s := summarize(t.lat[call])
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %.2f× |\n", t.name, ms(s.p50), ms(s.p99), ms(s.mean), ratio(s.p50, bs.p50))
	}
	fmt.Fprintf(stdout, "\np50 ratio Latch / JS baseline (same D1 statements): **%.2f×** (budget: p50 and p99 ≤ 1.10×); p99 ratio: %.2f×; mean ratio: %.2f×\n", ratio(ls.p50, bs.p50), ratio(ls.p99, bs.p99), ratio(ls.mean, bs.mean))
	fmt.Fprintf(stdout, "p50 ratio Latch / JS baseline reading the row as 22 cells: %.2f×\n\n", ratio(ls.p50, cs.p50))
	reportCPU(stdout, call, lt, bt, edge[3:]...)
	fmt.Fprintf(stdout, "Baseline: `edge/bench/baseline.mjs`, the engine's SELECT (session ⋈ user ⋈ password, the row as one SQLite JSON object) and throttled UPDATE, JWT signed with WebCrypto RS256 like the Latch Worker; the 22-cell variant selects the same columns as plain cells.\n\n")
}

// reportCPU prints the CPU per call of the Latch Worker and the baseline
// (and of any -b build), when the bench could read it.
func reportCPU(stdout io.Writer, call string, lt, bt *target, more ...*target) {
	n := len(bt.lat[call])
	if n == 0 || bt.cpu[call] <= 0 || lt.cpu[call] <= 0 {
		return
	}
	ref := bt.cpu[call] / time.Duration(n)
	fmt.Fprintf(stdout, "workerd CPU per call (the Worker's two processes, every thread, read from /proc/<pid>/task/*/schedstat around each measured call): ")
	for _, t := range append([]*target{lt, bt}, more...) {
		if t.cpu[call] <= 0 || len(t.lat[call]) == 0 {
			continue
		}
		per := t.cpu[call] / time.Duration(len(t.lat[call]))
		fmt.Fprintf(stdout, "%s %s (%.2f×); ", t.name, ms(per), ratio(per, ref))
	}
	fmt.Fprintf(stdout, "the ratio of CPU per call is what throughput tends to under load.\n\n")
}

func newTarget(name string, t e2e.Target) *target {
	return &target{
		name: name, base: t.URL, auth: [2]string{t.ProjectID, t.Secret},
		authPath: "/v1/sessions/authenticate", lat: map[string][]time.Duration{},
		cpu: map[string]time.Duration{},
	}
}

// startNative serves the engine natively (testharness/native): net/http on
// loopback, SQLite in a temporary file with the Worker's migrations, RS256
// signing with crypto/rsa.
func startNative() (e2e.Target, func(), error) {
	s, err := native.New(native.Config{})
	if err != nil {
		return e2e.Target{}, nil, err
	}
	return e2e.Target{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret}, func() { s.Close() }, nil
}

// setupLatch creates a user and a session on t and returns the session's
// factors (for the baseline's session).
func setupLatch(client *http.Client, t *target) (json.RawMessage, error) {
	email := "bench-" + uuid.NewString() + "@example.com"
	u, err := post(client, t, "/v1/users", map[string]any{"email": email})
	if err != nil {
		return nil, err
	}
	t.user, _ = u["user_id"].(string)
	ml, err := post(client, t, "/v1/magic_links", map[string]any{"user_id": t.user})
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

// magicLinkLogin mints a magic link (untimed) and times its authentication
// with a new 60-minute session.
// measure times call on every target, warm+n rounds, keeping the last n.
// Every target once per round, in a fresh random order each round, so
// drift on a shared machine, and one server's background work (GC)
// landing on the next request, hit every target alike.
func measure(targets []*target, call string, warm, n int, client *http.Client, do func(*http.Client, *target) (time.Duration, error)) error {
	for i := range warm + n {
		mrand.Shuffle(len(targets), func(a, b int) { targets[a], targets[b] = targets[b], targets[a] })
		for _, t := range targets {
			var cpu0 time.Duration
			if t.pids != nil {
				var err error
				if cpu0, _, err = threadCPU(t.pids); err != nil {
					return fmt.Errorf("%s: %w", t.name, err)
				}
			}
			d, err := do(client, t)
			if err != nil {
				return err
			}
			if i >= warm {
				t.lat[call] = append(t.lat[call], d)
				if t.pids != nil {
					cpu1, _, err := threadCPU(t.pids)
					if err != nil {
						return fmt.Errorf("%s: %w", t.name, err)
					}
					t.cpu[call] += cpu1 - cpu0
				}
			}
		}
	}
	return nil
}

func magicLinkLogin(client *http.Client, t *target) (time.Duration, error) {
	ml, err := post(client, t, "/v1/magic_links", map[string]any{"user_id": t.user})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.name, err)
	}
	start := time.Now()
	out, err := post(client, t, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60})
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.name, err)
	}
	if jwt, _ := out["session_jwt"].(string); strings.Count(jwt, ".") != 2 {
		return 0, fmt.Errorf("%s: no session_jwt in answer", t.name)
	}
	return d, nil
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
	return authenticateWith(client, t, map[string]any{"session_token": t.token})
}

// authenticateJWT is sessions/authenticate by the target's session_jwt.
func authenticateJWT(client *http.Client, t *target) (time.Duration, error) {
	return authenticateWith(client, t, map[string]any{"session_jwt": t.jwt})
}

// sessionJWT gets a session_jwt of t's session (untimed).
func sessionJWT(client *http.Client, t *target) error {
	out, err := post(client, t, t.authPath, map[string]any{"session_token": t.token})
	if err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	if t.jwt, _ = out["session_jwt"].(string); strings.Count(t.jwt, ".") != 2 {
		return fmt.Errorf("%s: no session_jwt in answer", t.name)
	}
	return nil
}

func authenticateWith(client *http.Client, t *target, body map[string]any) (time.Duration, error) {
	start := time.Now()
	out, err := post(client, t, t.authPath, body)
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
	c := apitest.Client{URL: t.base, ProjectID: t.auth[0], Secret: t.auth[1], HTTP: client}
	status, out, err := c.Post(path, body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d: %v", path, status, out)
	}
	return out, nil
}

type stats struct{ p50, p99, mean time.Duration }

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return stats{p50: percentile(ds, 50), p99: percentile(ds, 99), mean: sum / time.Duration(len(ds))}
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
