//go:build !js

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/latchauth/latch/edge/internal/e2e"
	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/verifier"
)

// revocationConfig is the revocation feed benchmark's part of the command
// line: N sessions on each host, revoked one at a time while R readers
// long-poll the feed, each timed from the revoke's answer until every
// reader holds its event.
type revocationConfig struct {
	only     bool
	sessions int
	readers  int
	clients  int           // M2M clients deactivated one at a time per host (m2m.go); 0 skips
	timeout  time.Duration // per revoke, before the run fails
}

func registerRevocations(fl *flag.FlagSet) *revocationConfig {
	rc := &revocationConfig{}
	fl.BoolVar(&rc.only, "revocations", false, "run only the revocation feed benchmark (native, wazero and workerd hosts)")
	fl.IntVar(&rc.sessions, "revocation-sessions", 200, "sessions revoked one at a time per host, by the revocation feed benchmark")
	fl.IntVar(&rc.readers, "revocation-readers", 2, "verifiers long-polling each host's feed, by the revocation feed benchmark")
	fl.IntVar(&rc.clients, "revocation-clients", 200, "M2M clients deactivated one at a time per host while the verifiers hold their tokens, by the revocation feed benchmark (0 skips)")
	fl.DurationVar(&rc.timeout, "revocation-timeout", 10*time.Second, "longest a revoke may take to reach every reader before the revocation feed benchmark fails")
	return rc
}

// feedHost is one host the revocation benchmark runs on. Another host is
// one more entry in feedHosts.
type feedHost struct {
	name  string
	start func() (e2e.Target, func(), error)
}

func feedHosts() []feedHost {
	return []feedHost{
		{name: "native (Go, SQLite)", start: startNative},
		{name: "wazero (latch-local: testharness, file store)", start: startFileWazero},
		{name: "workerd (wrangler dev, local D1, Durable Object)", start: startWorkerd},
	}
}

// startWorkerd serves the Latch Worker under wrangler dev.
func startWorkerd() (e2e.Target, func(), error) {
	root, err := e2e.RepoRoot()
	if err != nil {
		return e2e.Target{}, nil, err
	}
	w, err := e2e.New(context.Background(), e2e.Options{Root: root})
	if err != nil {
		return e2e.Target{}, nil, err
	}
	return w.Target, func() { w.Close() }, nil
}

// startFileWazero serves the wazero host on a SQLite file, as latch-local
// does (synchronous=FULL).
func startFileWazero() (e2e.Target, func(), error) {
	dir, err := os.MkdirTemp("", "latch-bench-feed-")
	if err != nil {
		return e2e.Target{}, nil, err
	}
	s, err := testharness.New(testharness.Config{DBPath: filepath.Join(dir, "latch.db")})
	if err != nil {
		os.RemoveAll(dir)
		return e2e.Target{}, nil, err
	}
	return e2e.Target{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret}, func() { s.Close(); os.RemoveAll(dir) }, nil
}

// feedResult is one host's run.
type feedResult struct {
	host       string
	fromAnswer []time.Duration // revoke answered → last reader has it
	fromRevoke []time.Duration // revoke sent → last reader has it
	accepted   int             // revoked JWTs a verifier still accepted after the run
}

func (rc *revocationConfig) run(stdout, stderr io.Writer) error {
	if rc.sessions < 1 || rc.readers < 1 || rc.clients < 0 {
		return errors.New("revocations: -revocation-sessions and -revocation-readers must be at least 1, -revocation-clients at least 0")
	}
	var results []feedResult
	var m2m []m2mResult
	for _, h := range feedHosts() {
		fmt.Fprintf(stderr, "bench: revocation feed on %s: %d sessions, %d M2M clients, %d readers…\n", h.name, rc.sessions, rc.clients, rc.readers)
		t, stop, err := h.start()
		if err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		r, err := rc.measure(h.name, t)
		if err == nil && rc.clients > 0 {
			var mr m2mResult
			mr, err = rc.measureM2M(h.name, t)
			m2m = append(m2m, mr)
		}
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		results = append(results, r)
	}
	fmt.Fprintf(stdout, "## Revocation feed: revoke to every reader\n\n")
	fmt.Fprintf(stdout, "%d sessions of one user, revoked one at a time by session_id over loopback; %d verifiers (package verifier, feed on), each with its own connections and its own long-poll of the feed. Each revoke is timed until every verifier's Verify of the session's JWT returns ErrRevoked (polled every 0.5 ms); the next revoke follows once all do. Goal: p99 ≤ 1 s from the revoke's answer.\n\n", rc.sessions, rc.readers)
	fmt.Fprintf(stdout, "| host | from | p50 | p99 | max |\n|---|---|---|---|---|\n")
	for _, r := range results {
		for _, row := range []struct {
			from string
			ds   []time.Duration
		}{{from: "revoke answered", ds: r.fromAnswer}, {from: "revoke sent", ds: r.fromRevoke}} {
			s := summarize(row.ds)
			fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s |\n", r.host, row.from, ms(s.p50), ms(s.p99), ms(slicesMax(row.ds)))
		}
	}
	fmt.Fprintf(stdout, "\n\"revoke answered\" counts 0 when a reader had the event before the revoke's answer reached the revoker.\n")
	for _, r := range results {
		fmt.Fprintf(stdout, "%s: %d revoked JWTs accepted by a verifier after the run (must be 0).\n", r.host, r.accepted)
		if r.accepted > 0 {
			return fmt.Errorf("%s: %d revoked JWTs still accepted", r.host, r.accepted)
		}
	}
	fmt.Fprintln(stdout)
	if len(m2m) > 0 {
		return rc.reportM2M(stdout, m2m)
	}
	return nil
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func (rc *revocationConfig) measure(host string, tg e2e.Target) (feedResult, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	tt := newTarget(host, tg)
	if _, err := setupLatch(client, tt); err != nil {
		return feedResult{}, fmt.Errorf("setup: %w", err)
	}
	type minted struct{ id, jwt string }
	sessions := make([]minted, rc.sessions)
	for i := range sessions {
		ml, err := post(client, tt, "/v1/magic_links", map[string]any{"user_id": tt.user})
		if err != nil {
			return feedResult{}, err
		}
		a, err := post(client, tt, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60})
		if err != nil {
			return feedResult{}, err
		}
		sessions[i].id, _ = a["session"].(map[string]any)["session_id"].(string)
		sessions[i].jwt, _ = a["session_jwt"].(string)
	}
	// The readers are verifiers, each with its own connections and its
	// own long-poll of the feed (on: a Secret is given).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	verifiers := make([]*verifier.Verifier, rc.readers)
	for i := range verifiers {
		v, err := verifier.New(ctx, verifier.Config{ProjectID: tg.ProjectID, BaseURL: tg.URL, Secret: tg.Secret,
			HTTPClient: &http.Client{Timeout: 45 * time.Second, Transport: &http.Transport{}}})
		if err != nil {
			return feedResult{}, fmt.Errorf("verifier: %w", err)
		}
		defer v.Close()
		verifiers[i] = v
	}
	// Every JWT verifies locally before the first revoke: the feeds are up.
	for _, s := range sessions {
		for _, v := range verifiers {
			if err := eventually(ctx, rc.timeout, func() bool { _, err := v.Verify(ctx, s.jwt); return err == nil }); err != nil {
				return feedResult{}, fmt.Errorf("session %s does not verify before its revoke", s.id)
			}
		}
	}
	res := feedResult{host: host}
	for _, s := range sessions {
		sent := time.Now()
		if _, err := post(client, tt, "/v1/sessions/revoke", map[string]any{"session_id": s.id}); err != nil {
			return res, err
		}
		answered := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last time.Time
		var failed error
		for _, v := range verifiers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := eventually(ctx, rc.timeout, func() bool {
					_, err := v.Verify(ctx, s.jwt)
					return errors.Is(err, verifier.ErrRevoked)
				})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = fmt.Errorf("revoke of %s not seen by a verifier in %v", s.id, rc.timeout)
				}
				if now := time.Now(); now.After(last) {
					last = now
				}
			}()
		}
		wg.Wait()
		if failed != nil {
			return res, failed
		}
		res.fromAnswer = append(res.fromAnswer, max(0, last.Sub(answered)))
		res.fromRevoke = append(res.fromRevoke, last.Sub(sent))
	}
	// No revoked JWT is accepted afterwards, by any verifier.
	for _, s := range sessions {
		for _, v := range verifiers {
			if _, err := v.Verify(ctx, s.jwt); !errors.Is(err, verifier.ErrRevoked) {
				res.accepted++
			}
		}
	}
	return res, nil
}

// eventually polls ok every half millisecond until it holds or d passes.
func eventually(ctx context.Context, d time.Duration, ok func() bool) error {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("timed out")
		}
		time.Sleep(500 * time.Microsecond)
	}
	return nil
}
