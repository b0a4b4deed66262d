//go:build !js

package main

import (
	"cmp"
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
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/websocket"

	"github.com/latchauth/latch/edge/internal/e2e"
	"github.com/latchauth/latch/testharness/apitest"
)

// profileConfig is the CPU profile's part of the command line: -profile
// runs it alone.
type profileConfig struct {
	only     bool
	baseline bool
	n        int
	call     string
	out      string
	top      int
	interval time.Duration
}

func registerProfile(fl *flag.FlagSet) *profileConfig {
	p := &profileConfig{}
	fl.BoolVar(&p.baseline, "profile-baseline", false, "with -profile: profile the JS baseline Worker (baseline.mjs) on sessions/authenticate instead, to read beside the Latch Worker's profile")
	fl.BoolVar(&p.only, "profile", false, "run only a V8 CPU profile of the Latch Worker on workerd (a build keeping Go's function names) over -profile-n calls of -profile-call, and print where the time goes")
	fl.IntVar(&p.n, "profile-n", 2000, "calls made while profiling")
	fl.StringVar(&p.call, "profile-call", "sessions", "the call profiled: sessions (sessions/authenticate by token), jwt (by JWT), or first (the isolate's first request, which starts Go: sessions/authenticate with an unknown token)")
	fl.StringVar(&p.out, "profile-out", "", "file to write the profile to (.cpuprofile, which Chrome DevTools opens)")
	fl.IntVar(&p.top, "profile-top", 40, "functions listed by self time")
	fl.DurationVar(&p.interval, "profile-interval", 100*time.Microsecond, "V8's sampling interval")
	return p
}

// run starts the Latch Worker (a build with names), warms it up, profiles
// p.n calls through the V8 inspector and prints the functions by self time
// and the time by kind (the glue, Go's runtime, syscall/js, JSON, the
// engine, …).
func (p *profileConfig) run(stdout, stderr io.Writer) error {
	ctx := context.Background()
	root, err := e2e.RepoRoot()
	if err != nil {
		return err
	}
	if p.baseline {
		return p.runBaseline(ctx, root, stdout, stderr)
	}
	fmt.Fprintln(stderr, "bench: building the Worker with Go's function names…")
	main, err := e2e.BuildWithNames(root)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: starting it on workerd…")
	// Profiling the first request, nothing may reach the Worker before it.
	w, err := e2e.New(ctx, e2e.Options{Root: root, Main: main, Name: "latch-profile", Untouched: p.call == "first"})
	if err != nil {
		return err
	}
	defer w.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	t := newTarget("workerd (Latch, Go/Wasm)", w.Target)
	var call func() error
	if p.call == "first" {
		// The first request of the isolate: sessions/authenticate with an
		// unknown token, which starts Go.
		p.n = 1
		call = func() error { return firstRequest(client, t) }
	} else {
		if _, err := setupLatch(client, t); err != nil {
			return err
		}
		if call, err = p.callFunc(client, t); err != nil {
			return err
		}
	}
	return p.profile(w, call, stdout)
}

// runBaseline profiles the JS baseline Worker (baseline.mjs) the same way,
// on sessions/authenticate by token, so that the two profiles can be read
// side by side.
func (p *profileConfig) runBaseline(ctx context.Context, root string, stdout, stderr io.Writer) error {
	if p.call != "sessions" {
		return fmt.Errorf("-profile-baseline profiles -profile-call sessions only")
	}
	fmt.Fprintln(stderr, "bench: starting the JS baseline on workerd…")
	_, vars, err := newProject()
	if err != nil {
		return err
	}
	w, err := e2e.New(ctx, e2e.Options{
		Root: root, Main: filepath.Join(root, "edge", "bench", "baseline.mjs"), Name: "latch-baseline",
		// Given settings: the baseline serves no JWKS for New to check.
		Vars: vars,
	})
	if err != nil {
		return err
	}
	defer w.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	t := newTarget("workerd (JS baseline)", w.Target)
	// The factor a magic-link login gives a Latch session, as setupLatch's.
	now := time.Now().UTC().Format(time.RFC3339)
	factors, err := json.Marshal([]map[string]any{{
		"type": "magic_link", "delivery_method": "email", "created_at": now, "updated_at": now, "last_authenticated_at": now,
		"email_factor": map[string]any{"email_id": "email-test-00000000-0000-4000-8000-000000000000", "email_address": "bench@example.com"},
	}})
	if err != nil {
		return err
	}
	if err := setupBaseline(client, t, factors); err != nil {
		return err
	}
	return p.profile(w, func() error { _, err := authenticate(client, t); return err }, stdout)
}

// profile runs call p.n times under V8's profiler on w, after 200 calls to
// warm up unless the first request is profiled, and reports.
func (p *profileConfig) profile(w *e2e.Worker, call func() error, stdout io.Writer) error {
	if p.call != "first" {
		for range 200 {
			if err := call(); err != nil {
				return err
			}
		}
	}
	c, err := dialInspector(w.InspectorURL())
	if err != nil {
		return err
	}
	defer c.close()
	for _, m := range []struct {
		method string
		params any
	}{
		{"Profiler.enable", nil},
		{"Profiler.setSamplingInterval", map[string]any{"interval": p.interval.Microseconds()}},
		{"Profiler.start", nil},
	} {
		if _, err := c.call(m.method, m.params); err != nil {
			return err
		}
	}
	start := time.Now()
	for range p.n {
		if err := call(); err != nil {
			return err
		}
	}
	wall := time.Since(start)
	raw, err := c.call("Profiler.stop", nil)
	if err != nil {
		return err
	}
	var res struct {
		Profile json.RawMessage `json:"profile"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	if p.out != "" {
		if err := os.WriteFile(p.out, res.Profile, 0o644); err != nil {
			return err
		}
	}
	var prof cpuProfile
	if err := json.Unmarshal(res.Profile, &prof); err != nil {
		return err
	}
	prof.report(stdout, p, wall)
	return nil
}

// callFunc returns the profiled call on t.
func (p *profileConfig) callFunc(client *http.Client, t *target) (func() error, error) {
	switch p.call {
	case "sessions":
		return func() error { _, err := authenticate(client, t); return err }, nil
	case "jwt":
		a, err := post(client, t, "/v1/sessions/authenticate", map[string]any{"session_token": t.token})
		if err != nil {
			return nil, err
		}
		jwt, _ := a["session_jwt"].(string)
		return func() error {
			_, err := post(client, t, "/v1/sessions/authenticate", map[string]any{"session_jwt": jwt})
			return err
		}, nil
	}
	return nil, fmt.Errorf("-profile-call %q: want sessions or jwt", p.call)
}

// cpuProfile is V8's Profiler.Profile.
type cpuProfile struct {
	Nodes []struct {
		ID        int `json:"id"`
		CallFrame struct {
			FunctionName string `json:"functionName"`
			URL          string `json:"url"`
		} `json:"callFrame"`
		HitCount int   `json:"hitCount"`
		Children []int `json:"children"`
	} `json:"nodes"`
	StartTime  int64 `json:"startTime"`
	EndTime    int64 `json:"endTime"`
	Samples    []int `json:"samples"`
	TimeDeltas []int `json:"timeDeltas"`
}

// kinds sort a function into where its time goes, first match wins. V8
// names Go's functions from the Wasm name section with every character
// outside [A-Za-z0-9_.] made "_": encoding/json.(*decodeState).object is
// encoding_json.__decodeState_.object; the glue's Wasm imports keep their
// names (syscall/js.valueCall is wasm_exec.js's).
var kinds = []struct{ kind, prefix string }{
	{"(idle: waiting on I/O)", "(idle)"},
	{"(program: V8 and workerd outside JS)", "(program)"},
	{"(garbage collector: V8's)", "(garbage collector)"},
	{"Go ↔ JS: syscall/js and wasm_exec.js's imports", "syscall_js."},
	{"Go ↔ JS: syscall/js and wasm_exec.js's imports", "syscall/js."},
	{"Go runtime: scheduler, allocation, GC, finalizers", "runtime."},
	{"Go runtime: scheduler, allocation, GC, finalizers", "internal_runtime"},
	{"Go: encoding/json", "encoding_json."},
	{"Go: database/sql and syumai's D1 driver", "database_sql."},
	{"Go: database/sql and syumai's D1 driver", "github.com_syumai_"},
	{"Go: the engine, the SDK surface, the login page", "github.com_latchauth_latch_wasm_"},
	{"Go: the edge glue (package main)", "main."},
	{"Go: crypto", "crypto_"},
	{"Go: net/http, net/url, net/textproto", "net_"},
	{"Go: reflect, strings, strconv, fmt and other std", "reflect."},
	{"Go: reflect, strings, strconv, fmt and other std", "strings."},
	{"Go: reflect, strings, strconv, fmt and other std", "strconv."},
	{"Go: reflect, strings, strconv, fmt and other std", "fmt."},
	{"Go: reflect, strings, strconv, fmt and other std", "bytes."},
	{"Go: reflect, strings, strconv, fmt and other std", "internal_"},
	{"Go: reflect, strings, strconv, fmt and other std", "unicode"},
	{"Go: reflect, strings, strconv, fmt and other std", "sort."},
	{"Go: reflect, strings, strconv, fmt and other std", "slices."},
	{"Go: reflect, strings, strconv, fmt and other std", "encoding_"},
	{"Go: reflect, strings, strconv, fmt and other std", "log_slog."},
	{"Go: reflect, strings, strconv, fmt and other std", "time."},
	{"Go: reflect, strings, strconv, fmt and other std", "context."},
	{"Go: reflect, strings, strconv, fmt and other std", "sync."},
	{"Go: reflect, strings, strconv, fmt and other std", "errors."},
	{"Go: reflect, strings, strconv, fmt and other std", "regexp"},
	{"Go: reflect, strings, strconv, fmt and other std", "math"},
}

func kindOf(name, url string) string {
	for _, k := range kinds {
		if strings.HasPrefix(name, k.prefix) {
			return k.kind
		}
	}
	switch {
	case strings.Contains(url, "wasm_exec"):
		return "wasm_exec.js (Go's JS side)"
	case strings.HasSuffix(url, ".mjs") || strings.HasSuffix(url, ".js"):
		return "the glue (worker.mjs) and other JS"
	case strings.HasPrefix(url, "wasm://"):
		return "Go: other packages"
	case url == "":
		return "workerd built-ins (fetch, D1 binding, WebCrypto, streams)"
	}
	return "other JS"
}

// report prints the busy time by kind and the functions by self time.
func (prof *cpuProfile) report(w io.Writer, p *profileConfig, wall time.Duration) {
	self := make(map[int]time.Duration, len(prof.Nodes))
	for i, id := range prof.Samples {
		if i < len(prof.TimeDeltas) && i+1 < len(prof.TimeDeltas) {
			self[id] += time.Duration(prof.TimeDeltas[i+1]) * time.Microsecond
		}
	}
	type agg struct {
		name string
		d    time.Duration
	}
	byKind, byFunc := map[string]time.Duration{}, map[string]time.Duration{}
	var busy time.Duration
	for _, n := range prof.Nodes {
		d := self[n.ID]
		name := n.CallFrame.FunctionName
		if name == "" {
			name = "(anonymous " + n.CallFrame.URL + ")"
		}
		k := kindOf(name, n.CallFrame.URL)
		byKind[k] += d
		byFunc[name] += d
		if !strings.HasPrefix(k, "(idle") {
			busy += d
		}
	}
	sorted := func(m map[string]time.Duration) []agg {
		var out []agg
		for k, d := range m {
			out = append(out, agg{k, d})
		}
		slices.SortFunc(out, func(a, b agg) int { return cmp.Compare(b.d, a.d) })
		return out
	}
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.1f µs", float64(d.Nanoseconds())/1e3/float64(p.n))
	}
	worker := "the Latch Worker"
	if p.baseline {
		worker = "the JS baseline Worker"
	}
	fmt.Fprintf(w, "## V8 CPU profile of %s: %s\n\n", worker, p.call)
	fmt.Fprintf(w, "%d calls in %s (sampling every %s): %s busy per call (not idle)\n\n", p.n, wall.Round(time.Millisecond), p.interval, per(busy))
	fmt.Fprintf(w, "| where | per call | share of busy |\n|---|---|---|\n")
	for _, a := range sorted(byKind) {
		share := "—"
		if !strings.HasPrefix(a.name, "(idle") && busy > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(a.d)/float64(busy))
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", a.name, per(a.d), share)
	}
	fmt.Fprintf(w, "\n| function (time in it and what it calls) | per call | share of busy |\n|---|---|---|\n")
	for i, a := range sorted(prof.inclusive()) {
		if i >= p.top {
			break
		}
		fmt.Fprintf(w, "| `%s` | %s | %.1f%% |\n", a.name, per(a.d), 100*float64(a.d)/float64(busy))
	}
	fmt.Fprintf(w, "\n| function (self time) | per call | share of busy |\n|---|---|---|\n")
	for i, a := range sorted(byFunc) {
		if i >= p.top {
			break
		}
		if strings.HasPrefix(a.name, "(idle") {
			continue
		}
		fmt.Fprintf(w, "| `%s` | %s | %.1f%% |\n", a.name, per(a.d), 100*float64(a.d)/float64(busy))
	}
	fmt.Fprintln(w)
}

// inclusive returns the busy time of each function with what it calls,
// each sample counted once per function on its stack.
func (prof *cpuProfile) inclusive() map[string]time.Duration {
	parent := make(map[int]int, len(prof.Nodes))
	index := make(map[int]int, len(prof.Nodes))
	for i, n := range prof.Nodes {
		index[n.ID] = i
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	out := map[string]time.Duration{}
	for i, id := range prof.Samples {
		if i+1 >= len(prof.TimeDeltas) {
			break
		}
		d := time.Duration(prof.TimeDeltas[i+1]) * time.Microsecond
		if prof.Nodes[index[id]].CallFrame.FunctionName == "(idle)" {
			continue
		}
		seen := map[string]bool{}
		for x, ok := id, true; ok; x, ok = parent[x] {
			name := prof.Nodes[index[x]].CallFrame.FunctionName
			if name == "" || name == "(root)" || seen[name] {
				continue
			}
			seen[name] = true
			out[name] += d
		}
	}
	return out
}

// inspector is a Chrome DevTools Protocol session with the Worker's V8.
type inspector struct {
	ws *websocket.Conn
	id atomic.Int64
}

func dialInspector(base string) (*inspector, error) {
	resp, err := http.Get(base + "/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var targets []struct {
		URL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return nil, fmt.Errorf("inspector targets: %w", err)
	}
	if len(targets) == 0 || targets[0].URL == "" {
		return nil, errors.New("the inspector lists no target")
	}
	ws, err := websocket.Dial(targets[0].URL, "", base)
	if err != nil {
		return nil, err
	}
	ws.MaxPayloadBytes = 256 << 20
	return &inspector{ws: ws}, nil
}

// call sends method with params and returns its result, skipping the
// events that come before it.
func (c *inspector) call(method string, params any) (json.RawMessage, error) {
	id := c.id.Add(1)
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := websocket.JSON.Send(c.ws, msg); err != nil {
		return nil, err
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	for {
		var m struct {
			ID     int64           `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(c.ws, &m); err != nil {
			return nil, fmt.Errorf("inspector %s: %w", method, err)
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return nil, fmt.Errorf("inspector %s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	}
}

func (c *inspector) close() { _ = c.ws.Close() }

// firstRequest is sessions/authenticate with an unknown token, answered
// 404 session_not_found, the request timed as the isolate's first.
func firstRequest(client *http.Client, t *target) error {
	c := apitest.Client{URL: t.base, ProjectID: t.auth[0], Secret: t.auth[1], HTTP: client}
	tok := make([]byte, 33) // a session token's length: 44 characters
	_, _ = rand.Read(tok)
	status, out, err := c.Post("/v1/sessions/authenticate", map[string]any{"session_token": base64.RawURLEncoding.EncodeToString(tok)})
	if err != nil {
		return err
	}
	if status != http.StatusNotFound {
		return fmt.Errorf("first request: status %d: %v", status, out)
	}
	return nil
}
