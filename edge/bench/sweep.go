//go:build !js

package main

import (
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/latchauth/latch/edge/internal/e2e"
)

// sweepLevels are the concurrency levels of the load sweep.
var sweepLevels = []int{1, 4, 16, 64}

// sweepResult is one target at one concurrency level.
type sweepResult struct {
	n, errs  int
	rps      float64
	p50, p99 time.Duration
	firstErr error
	// cpu is the CPU time the target's processes used in the measured
	// window, when the bench knows them (workerd); 0 otherwise.
	cpu, window time.Duration
}

// loadClient keeps a connection per concurrent caller alive (http's default
// keeps two per host, which at c = 64 would open and close connections all
// the time and measure that instead).
func loadClient(c int) *http.Client {
	return &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 2 * c, MaxIdleConnsPerHost: 2 * c, IdleConnTimeout: time.Minute},
	}
}

// load runs c callers of sessions/authenticate on t, each sending its next
// request when the last is answered: warm first (not counted), then dur
// measured. Any answer but a 200 with a session_jwt is an error.
func load(t *target, c int, warm, dur time.Duration) sweepResult {
	client := loadClient(c)
	defer client.CloseIdleConnections()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	var cpu0 time.Duration
	cpuTimer := time.AfterFunc(warm, func() { cpu0 = cpuOf(t.pids) })
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var myErrs int
			var myErr error
			for {
				sent := time.Now()
				if !sent.Before(end) {
					break
				}
				d, err := authenticate(client, t)
				if sent.Before(measureFrom) {
					continue
				}
				if err != nil {
					myErrs++
					if myErr == nil {
						myErr = err
					}
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += myErrs
			if firstErr == nil {
				firstErr = myErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	cpuTimer.Stop()
	cpu1 := cpuOf(t.pids)
	// Requests sent in the window and answered after it count, so the
	// window is as long as the last answer took to come.
	elapsed := time.Since(measureFrom)
	s := summarize(lat)
	return sweepResult{
		n: len(lat), errs: errs, firstErr: firstErr,
		rps: float64(len(lat)) / elapsed.Seconds(), p50: s.p50, p99: s.p99,
		cpu: cpu1 - cpu0, window: elapsed,
	}
}

// cpuOf sums the CPU time of the processes; 0 when there are none or one
// has gone.
func cpuOf(pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		d, err := e2e.ProcCPU(pid)
		if err != nil {
			return 0
		}
		sum += d
	}
	return sum
}

// threadCPU is the CPU time of the live threads of pids, all of them and
// the processes' main threads (e2e.ThreadCPU), in nanoseconds: for windows
// of one call or one start. cpuOf, in clock ticks, also counts threads
// that have exited, for the sweep's windows of seconds.
func threadCPU(pids []int) (all, main time.Duration, err error) {
	for _, pid := range pids {
		a, m, err := e2e.ThreadCPU(pid)
		if err != nil {
			return 0, 0, err
		}
		all, main = all+a, main+m
	}
	return all, main, nil
}

// runSweep loads every target at every level, the targets of a level in a
// fresh random order, and writes the table: each row's ratios are to base
// at the same level.
func runSweep(stdout, stderr io.Writer, targets []*target, base *target, sw sweepConfig) error {
	warm, dur, levels := sw.warm, sw.dur, sw.levels
	if levels == nil {
		levels = sweepLevels
	}
	res := map[*target]map[int]sweepResult{}
	for _, t := range targets {
		res[t] = map[int]sweepResult{}
	}
	order := append([]*target(nil), targets...)
	for _, c := range levels {
		mrand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, t := range order {
			fmt.Fprintf(stderr, "bench: sweep c=%d on %s…\n", c, t.name)
			r := load(t, c, warm, dur)
			if r.errs > 0 {
				fmt.Fprintf(stderr, "bench: sweep c=%d on %s: %d errors, first: %v\n", c, t.name, r.errs, r.firstErr)
			}
			res[t][c] = r
		}
	}
	fmt.Fprintf(stdout, "## Load sweep: `POST /v1/sessions/authenticate` at c = %v\n\n", levels)
	fmt.Fprintf(stdout, "c closed-loop callers on keep-alive connections over loopback, each sending its next request when the last is answered; %v warm-up then %v measured per host and level, the hosts of a level in a random order. Ratios are to the JS baseline Worker at the same c, same run (req/s: higher is better; latency: lower is better).\n\n", warm, dur)
	fmt.Fprintf(stdout, "| c | host | req/s | p50 | p99 | errors | req/s × baseline | p50 × baseline | p99 × baseline |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range levels {
		b := res[base][c]
		for _, t := range targets {
			r := res[t][c]
			fmt.Fprintf(stdout, "| %d | %s | %.0f | %s | %s | %d | %.2f× | %.2f× | %.2f× |\n", c, t.name, r.rps, ms(r.p50), ms(r.p99), r.errs,
				r.rps/b.rps, ratio(r.p50, b.p50), ratio(r.p99, b.p99))
		}
	}
	fmt.Fprintf(stdout, "\nCPU of the two workerd processes of each Worker (wrangler's proxy and the runtime) in the measured window, from /proc: cores busy, and CPU per answered request.\n\n")
	fmt.Fprintf(stdout, "| c | host | workerd cores busy | workerd CPU / request |\n|---|---|---|---|\n")
	for _, c := range levels {
		for _, t := range targets {
			r := res[t][c]
			if r.cpu <= 0 || r.n == 0 {
				continue
			}
			fmt.Fprintf(stdout, "| %d | %s | %.2f | %s |\n", c, t.name, r.cpu.Seconds()/r.window.Seconds(), ms(r.cpu/time.Duration(r.n)))
		}
	}
	fmt.Fprintln(stdout)
	for _, t := range targets {
		for _, c := range levels {
			if r := res[t][c]; r.errs > 0 {
				return fmt.Errorf("sweep: %s at c=%d: %d errors, first: %w", t.name, c, r.errs, r.firstErr)
			}
		}
	}
	return nil
}
