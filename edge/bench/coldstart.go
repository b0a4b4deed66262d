//go:build !js

package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"time"

	"github.com/latchauth/latch/edge/internal/e2e"
	"github.com/latchauth/latch/wasm/keys"
)

// coldConfig is the cold start's part of the command line: -coldstart runs
// it alone.
type coldConfig struct {
	only   bool
	rounds int
}

func registerColdStart(fl *flag.FlagSet) *coldConfig {
	c := &coldConfig{}
	fl.BoolVar(&c.only, "coldstart", false, "run only the cold start: the first request of a fresh isolate of the Latch Worker and of the JS baseline, restarted -coldstart-rounds times each")
	fl.IntVar(&c.rounds, "coldstart-rounds", 7, "restarts of each Worker")
	return c
}

// run restarts the Latch Worker and the JS baseline c.rounds times each,
// in a fresh random order every round, and times the first request of each
// fresh isolate (sessions/authenticate with an unknown token, answered 404
// by both) and the request after it. Neither Worker is sent anything
// between its restart and the timed request (e2e.Options.Untouched).
func (c *coldConfig) run(stdout, stderr io.Writer) error {
	ctx := context.Background()
	root, err := e2e.RepoRoot()
	if err != nil {
		return err
	}
	p, vars, err := newProject()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: starting the Latch Worker and the JS baseline on workerd, untouched…")
	latch, err := e2e.New(ctx, e2e.Options{Root: root, Vars: vars, Untouched: true})
	if err != nil {
		return err
	}
	defer latch.Close()
	base, err := e2e.New(ctx, e2e.Options{
		Root: root, Main: filepath.Join(root, "edge", "bench", "baseline.mjs"),
		Name: "latch-baseline", Vars: vars, Untouched: true,
	})
	if err != nil {
		return err
	}
	defer base.Close()
	type arm struct {
		name         string
		w            *e2e.Worker
		first, after []time.Duration
		// CPU of the Worker's workerd processes from their start to
		// wrangler's "Ready" (the isolate's startup with the runtime's
		// own): every thread, and their main threads, where workerd runs
		// the isolate; and every thread's during the first request.
		startCPU, startMain, firstCPU []time.Duration
	}
	arms := []*arm{{name: "workerd (Latch, Go/Wasm)", w: latch}, {name: "workerd (JS baseline)", w: base}}
	for r := range c.rounds {
		mrand.Shuffle(len(arms), func(i, j int) { arms[i], arms[j] = arms[j], arms[i] })
		for _, a := range arms {
			if r > 0 { // the first round uses the fresh start of New
				if err := a.w.Restart(ctx, p.Keys); err != nil {
					return err
				}
			}
			pids, err := a.w.WorkerdPIDs()
			if err != nil {
				return fmt.Errorf("%s: %w", a.name, err)
			}
			cpu0, main0, err := threadCPU(pids)
			if err != nil {
				return fmt.Errorf("%s: %w", a.name, err)
			}
			a.startCPU = append(a.startCPU, cpu0)
			a.startMain = append(a.startMain, main0)
			// A fresh client: no connection left from the last isolate.
			client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{}}
			t := newTarget(a.name, a.w.Target)
			t.auth = [2]string{p.ID, p.Secret}
			for i := range 2 {
				start := time.Now()
				if err := firstRequest(client, t); err != nil {
					return fmt.Errorf("%s: %w", a.name, err)
				}
				d := time.Since(start)
				if i == 0 {
					a.first = append(a.first, d)
					cpu1, _, err := threadCPU(pids)
					if err != nil {
						return fmt.Errorf("%s: %w", a.name, err)
					}
					a.firstCPU = append(a.firstCPU, cpu1-cpu0)
				} else {
					a.after = append(a.after, d)
				}
			}
			client.CloseIdleConnections()
		}
	}
	if arms[0].w != latch {
		arms[0], arms[1] = arms[1], arms[0]
	}
	fmt.Fprintf(stdout, "## Edge: cold start, the first request of a fresh isolate\n\n")
	fmt.Fprintf(stdout, "`POST /v1/sessions/authenticate` with an unknown token (404 from both) as the first request after `wrangler dev` says it is ready, nothing sent before it; %d restarts of each Worker, alternating in a random order. `second` is the same request right after.\n\n", c.rounds)
	fmt.Fprintf(stdout, "| Worker | first, median | first, max | second, median | first × JS baseline (medians) |\n|---|---|---|---|---|\n")
	ref := percentile(arms[1].first, 50)
	for _, a := range arms {
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %.2f× |\n", a.name, ms(percentile(a.first, 50)), ms(percentile(a.first, 100)),
			ms(percentile(a.after, 50)), ratio(percentile(a.first, 50), ref))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "CPU of each Worker's two workerd processes (wrangler's proxy and the runtime), from /proc/<pid>/task/*/schedstat: from their start to wrangler's \"Ready\" (the runtime's own start, the module's compilation and the Worker's top-level code, which for Latch starts Go), on every thread and on the processes' main threads (where workerd runs the isolate; V8 compiles on other threads); and on every thread during the first request, from just before it is sent to its answer. Medians of %d restarts.\n\n", c.rounds)
	fmt.Fprintf(stdout, "| Worker | startup CPU, every thread | startup CPU, main threads | first request CPU | first request CPU × JS baseline |\n|---|---|---|---|---|\n")
	refCPU := percentile(arms[1].firstCPU, 50)
	for _, a := range arms {
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %.2f× |\n", a.name, ms(percentile(a.startCPU, 50)), ms(percentile(a.startMain, 50)),
			ms(percentile(a.firstCPU, 50)), ratio(percentile(a.firstCPU, 50), refCPU))
	}
	fmt.Fprintf(stdout, "\nStartup CPU the Latch Worker adds to the runtime's own (Latch − JS baseline, medians): %s on the main threads, %s on every thread; Cloudflare's limit for a Worker's startup is 1 s.\n\n",
		ms(percentile(arms[0].startMain, 50)-percentile(arms[1].startMain, 50)), ms(percentile(arms[0].startCPU, 50)-percentile(arms[1].startCPU, 50)))
	return nil
}

// newProject returns a fresh test project and the Worker settings that
// serve it (LATCH_PROJECT_ID, LATCH_PROJECT_SECRET, LATCH_SIGNING_KEYS),
// for Workers given their settings (e2e.Options.Vars).
func newProject() (keys.Project, map[string]string, error) {
	p, err := keys.NewProject(rand.Reader, "test")
	if err != nil {
		return keys.Project{}, nil, err
	}
	set, err := keys.MarshalSet(p.Keys)
	if err != nil {
		return keys.Project{}, nil, err
	}
	return p, map[string]string{"LATCH_PROJECT_ID": p.ID, "LATCH_PROJECT_SECRET": p.Secret, "LATCH_SIGNING_KEYS": string(set)}, nil
}
