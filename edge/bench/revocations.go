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

	"github.com/latchauth/latch/edge/e2e"
	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/apitest"
)

// revocationConfig is the revocation feed benchmark's part of the command
// line: N sessions on each host, revoked one at a time while R readers
// long-poll the feed, each timed from the revoke's answer until every
// reader holds its event.
type revocationConfig struct {
	only     bool
	sessions int
	readers  int
	timeout  time.Duration // per revoke, before the run fails
}

func registerRevocations(fl *flag.FlagSet) *revocationConfig {
	rc := &revocationConfig{}
	fl.BoolVar(&rc.only, "revocations", false, "run only the revocation feed benchmark (native and wazero hosts)")
	fl.IntVar(&rc.sessions, "revocation-sessions", 200, "sessions revoked one at a time per host, by the revocation feed benchmark")
	fl.IntVar(&rc.readers, "revocation-readers", 2, "feed readers (verifiers) long-polling each host, by the revocation feed benchmark")
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
	}
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
	host         string
	fromAnswer   []time.Duration // revoke answered → last reader has it
	fromRevoke   []time.Duration // revoke sent → last reader has it
	readerErrors int
}

func (rc *revocationConfig) run(stdout, stderr io.Writer) error {
	if rc.sessions < 1 || rc.readers < 1 {
		return errors.New("revocations: -revocation-sessions and -revocation-readers must be at least 1")
	}
	var results []feedResult
	for _, h := range feedHosts() {
		fmt.Fprintf(stderr, "bench: revocation feed on %s: %d sessions, %d readers…\n", h.name, rc.sessions, rc.readers)
		t, stop, err := h.start()
		if err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		r, err := rc.measure(h.name, t)
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		results = append(results, r)
	}
	fmt.Fprintf(stdout, "## Revocation feed: revoke to every reader\n\n")
	fmt.Fprintf(stdout, "%d sessions of one user, revoked one at a time by session_id over loopback; %d readers, each on its own connection, long-poll `GET /v1/sessions/revocations?wait=30&cursor=…` and keep the set of revoked sessions, as a verifier does. Each revoke is timed until the last reader holds its event; the next revoke follows once all do. Goal: p99 ≤ 1 s from the revoke's answer.\n\n", rc.sessions, rc.readers)
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
		if r.readerErrors > 0 {
			fmt.Fprintf(stdout, "%s: %d feed reads failed and were retried.\n", r.host, r.readerErrors)
		}
	}
	fmt.Fprintln(stdout)
	return nil
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// arrival is one reader holding one session's event.
type arrival struct {
	session string
	at      time.Time
}

func (rc *revocationConfig) measure(host string, tg e2e.Target) (feedResult, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	tt := newTarget(host, tg)
	if _, err := setupLatch(client, tt); err != nil {
		return feedResult{}, fmt.Errorf("setup: %w", err)
	}
	sessions := make([]string, rc.sessions)
	for i := range sessions {
		ml, err := post(client, tt, "/v1/magic_links", map[string]any{"user_id": tt.user})
		if err != nil {
			return feedResult{}, err
		}
		a, err := post(client, tt, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60})
		if err != nil {
			return feedResult{}, err
		}
		sessions[i], _ = a["session"].(map[string]any)["session_id"].(string)
	}
	api := apitest.Client{URL: tg.URL, ProjectID: tg.ProjectID, Secret: tg.Secret, HTTP: client}
	status, first, err := api.Do(context.Background(), http.MethodGet, "/v1/sessions/revocations", nil)
	if err != nil || status != http.StatusOK {
		return feedResult{}, fmt.Errorf("feed: %d %v %w", status, first, err)
	}
	cursor, _ := first["cursor"].(string)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrivals := make(chan arrival, rc.readers*rc.sessions)
	var wg sync.WaitGroup
	res := feedResult{host: host}
	var errMu sync.Mutex
	for range rc.readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := readFeed(ctx, tg, cursor, arrivals)
			errMu.Lock()
			res.readerErrors += n
			errMu.Unlock()
		}()
	}
	defer wg.Wait()
	defer cancel()
	// Let the readers start waiting before the first revoke.
	time.Sleep(200 * time.Millisecond)
	for _, id := range sessions {
		sent := time.Now()
		if _, err := post(client, tt, "/v1/sessions/revoke", map[string]any{"session_id": id}); err != nil {
			return res, err
		}
		answered := time.Now()
		var last time.Time
		deadline := time.After(rc.timeout)
		for got := 0; got < rc.readers; {
			select {
			case a := <-arrivals:
				if a.session != id {
					return res, fmt.Errorf("a reader got session %s while %s was revoked", a.session, id)
				}
				got++
				if a.at.After(last) {
					last = a.at
				}
			case <-deadline:
				return res, fmt.Errorf("revoke of %s reached %d of %d readers in %v", id, got, rc.readers, rc.timeout)
			}
		}
		res.fromAnswer = append(res.fromAnswer, max(0, last.Sub(answered)))
		res.fromRevoke = append(res.fromRevoke, last.Sub(sent))
	}
	return res, nil
}

// readFeed is a minimal verifier's feed client: it long-polls the feed
// from cursor until ctx ends, keeps the set of revoked sessions, and
// reports each new one on arrivals. It returns how many reads failed.
func readFeed(ctx context.Context, tg e2e.Target, cursor string, arrivals chan<- arrival) (failed int) {
	// One connection per reader, as separate verifiers would have.
	client := &http.Client{Timeout: 45 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	api := apitest.Client{URL: tg.URL, ProjectID: tg.ProjectID, Secret: tg.Secret, HTTP: client}
	revoked := map[string]bool{}
	for ctx.Err() == nil {
		status, out, err := api.Do(ctx, http.MethodGet, "/v1/sessions/revocations?wait=30&cursor="+cursor, nil)
		if err != nil || status != http.StatusOK {
			if ctx.Err() == nil {
				failed++
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		now := time.Now()
		evs, _ := out["events"].([]any)
		for _, ev := range evs {
			id, _ := ev.(map[string]any)["session_id"].(string)
			if !revoked[id] {
				revoked[id] = true
				arrivals <- arrival{session: id, at: now}
			}
		}
		if c, _ := out["cursor"].(string); c != "" {
			cursor = c
		}
	}
	return failed
}
