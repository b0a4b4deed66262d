//go:build !js

package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WorkerdPIDs returns the process ids of the workerd processes of w: those
// in the process group wrangler was started in. wrangler dev runs two, one
// for its proxy on the public port and one running the Worker itself.
// Linux only (it reads /proc).
func (w *Worker) WorkerdPIDs() ([]int, error) {
	if w.cmd == nil || w.cmd.Process == nil {
		return nil, errors.New("e2e: worker not started")
	}
	pgid := w.cmd.Process.Pid
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	var pids []int
	for _, p := range stats {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the process has gone
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parens.
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(data[end+1:]))
		if string(data[open+1:end]) != "workerd" || len(fields) < 3 || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data[:open]))); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return nil, errors.New("e2e: no workerd process in the worker's process group")
	}
	return pids, nil
}

// procStatus returns the named fields of /proc/<pid>/status in bytes (the
// memory fields, such as VmRSS and VmHWM, which the kernel reports in kB).
func procStatus(pid int, names ...string) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	defer f.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !want[name] {
			continue
		}
		v, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("e2e: /proc/%d/status %s: %w", pid, name, err)
		}
		if unit == "kB" {
			n <<= 10
		}
		out[name] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("e2e: /proc/%d/status has no %s", pid, n)
		}
	}
	return out, nil
}

// resetPeakRSS resets the kernel's record of pid's peak resident set size
// (VmHWM) to its current size (clear_refs, Linux 4.0 and later).
func resetPeakRSS(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("e2e: reset peak RSS: %w", err)
	}
	return nil
}

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Latch runs on).
const clockTick = 10 * time.Millisecond

// ProcCPU returns the CPU time (user and system) pid has used.
func ProcCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("e2e: %w", err)
	}
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, fmt.Errorf("e2e: /proc/%d/stat: unexpected format", pid)
	}
	// After "pid (comm)": state is field 3, utime 14, stime 15.
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("e2e: /proc/%d/stat: unexpected format", pid)
	}
	var total time.Duration
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("e2e: /proc/%d/stat: %w", pid, err)
		}
		total += time.Duration(n) * clockTick
	}
	return total, nil
}

// ThreadCPU returns the time pid's live threads have run on a CPU, all of
// them and its main thread alone (the thread whose id is pid: workerd runs
// its isolates there), from /proc/<pid>/task/*/schedstat, in nanoseconds:
// finer than ProcCPU's clock ticks, for windows of a few milliseconds such
// as one request. A thread that has exited no longer counts, so it suits
// processes whose threads live as long as they do (workerd's).
func ThreadCPU(pid int) (all, main time.Duration, err error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/[0-9]*", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("e2e: %w", err)
	}
	if len(tasks) == 0 {
		return 0, 0, fmt.Errorf("e2e: process %d has no threads to read", pid)
	}
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join(task, "schedstat"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread has gone
		}
		if err != nil {
			return 0, 0, fmt.Errorf("e2e: %w", err)
		}
		// on-CPU time (ns), run-queue wait (ns), time slices.
		f := strings.Fields(string(data))
		if len(f) < 1 {
			return 0, 0, fmt.Errorf("e2e: %s/schedstat: unexpected format", task)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("e2e: %s/schedstat: %w", task, err)
		}
		all += time.Duration(n)
		if filepath.Base(task) == strconv.Itoa(pid) {
			main = time.Duration(n)
		}
	}
	return all, main, nil
}
