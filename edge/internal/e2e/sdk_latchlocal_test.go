//go:build !js

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/mailbox"
)

// TestSDKInBrowser's latch-local host: the command, built and run as a
// developer runs it, and its dev mailbox read through its page.

// sdkLatchLocalStart bounds how long latch-local may take to print its
// banner (it compiles its guest first), and sdkLatchLocalStop how long
// it may take to exit after SIGINT.
const (
	sdkLatchLocalStart = 3 * time.Minute
	sdkLatchLocalStop  = 30 * time.Second
)

// sdkOnLatchLocal builds latch-local and runs it for the page's origin:
// on a port it picks, its database and credentials in a directory of the
// test's, its dev mailbox on a free loopback port. The credentials and
// addresses are read from its banner. It is stopped with SIGINT when t
// ends and must then exit 0.
func sdkOnLatchLocal(t *testing.T, page string) sdkHost {
	t.Helper()
	dir := t.TempDir()
	bin := sdkBuildLatchLocal(t, dir)
	args := []string{
		"-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "127.0.0.1:0",
		"-sdk-origin", page, "-mail-from", sdkMailFrom, "-project-name", "Acme",
	}
	for _, u := range sdkRedirectURLs(page) {
		args = append(args, "-redirect-url", u)
	}
	banner := sdkRunLatchLocal(t, bin, args)
	for _, name := range []string{"serving", "project_id", "secret", "public_token", "mailbox"} {
		if banner[name] == "" {
			t.Fatalf("latch-local's banner has no %s: %v", name, banner)
		}
	}
	return sdkHost{
		url: banner["serving"], publicToken: banner["public_token"],
		projectID: banner["project_id"], secret: banner["secret"],
		mail: sdkMailPage{url: strings.TrimSuffix(banner["mailbox"], "/")},
	}
}

// sdkBuildLatchLocal builds latch-local into dir and returns its path.
func sdkBuildLatchLocal(t *testing.T, dir string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "latch-local")
	build := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, "./testharness/cmd/latch-local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build latch-local: %v\n%s", err, out)
	}
	return bin
}

// sdkBannerLine is a line of latch-local's banner: "latch-local: serving
// URL", then "name: value" lines, "database:" last.
var sdkBannerLine = regexp.MustCompile(`^(?:latch-local: (serving)|(project_id|secret|public_token|jwks|mailbox|database):)\s+(.*\S)$`)

// sdkRunLatchLocal starts bin with args and returns the fields of its
// banner once it has printed it all, "serving" for its URL. Its standard
// error and the rest of its output (but the secret) go to the test's log.
func sdkRunLatchLocal(t *testing.T, bin string, args []string) map[string]string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = sdkLogWriter{t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	banner := make(chan map[string]string, 1)
	done := make(chan struct{}) // closed once the process has exited and exit is set
	var exit error
	stopping := false // it said it was stopping; read after done
	go func() {
		defer close(done)
		fields := map[string]string{}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			stopping = stopping || line == "latch-local: stopping"
			kv := sdkBannerLine.FindStringSubmatch(line)
			name := ""
			if kv != nil {
				name = kv[1] + kv[2]
				fields[name] = kv[3]
			}
			if name != "secret" {
				t.Logf("latch-local: %s", strings.TrimPrefix(line, "latch-local: "))
			}
			if name == "database" {
				banner <- fields
			}
		}
		exit = cmd.Wait() // after the output is read, as exec asks
	}()
	ready := false
	t.Cleanup(func() {
		select {
		case <-done:
			if ready {
				t.Errorf("latch-local exited before the test ended: %v", exit)
			}
			return
		default:
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Errorf("stop latch-local: %v", err)
		}
		select {
		case <-done:
		case <-time.After(sdkLatchLocalStop):
			t.Errorf("latch-local did not exit within %v of SIGINT; killing it", sdkLatchLocalStop)
			cmd.Process.Kill()
			<-done
			return
		}
		if exit != nil || !stopping {
			t.Errorf("latch-local after SIGINT: exit %v, said it was stopping: %v; want exit 0 after \"latch-local: stopping\"", exit, stopping)
		}
	})
	select {
	case fields := <-banner:
		ready = true
		return fields
	case <-done:
		t.Fatalf("latch-local exited before serving: %v", exit)
	case <-time.After(sdkLatchLocalStart):
		t.Fatalf("latch-local printed no banner within %v", sdkLatchLocalStart)
	}
	return nil
}

// sdkLogWriter passes latch-local's standard error (the guest's log, and
// each call the surface refuses) to the test's log.
type sdkLogWriter struct{ t *testing.T }

func (w sdkLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("latch-local: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sdkMailPage is an sdkInbox over a dev mailbox's page at url (no final
// slash), read from its /messages.json. The page has no way to wait, so
// Wait asks it again every sdkMailPoll.
type sdkMailPage struct{ url string }

const sdkMailPoll = 100 * time.Millisecond

func (p sdkMailPage) Wait(ctx context.Context, to string) (*mailbox.Message, error) {
	tick := time.NewTicker(sdkMailPoll)
	defer tick.Stop()
	for {
		msgs, err := p.Messages(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if strings.EqualFold(m.To, to) {
				return m, nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w for %s on %s: %w", mailbox.ErrNoMessage, to, p.url, ctx.Err())
		}
	}
}

func (p sdkMailPage) Messages(ctx context.Context) ([]*mailbox.Message, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/messages.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dev mailbox: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("dev mailbox: GET %s: %s", req.URL, resp.Status)
	}
	// The members mailbox.Handler gives each message.
	var page []struct {
		ID       int       `json:"id"`
		Received time.Time `json:"received"`
		Via      string    `json:"via"`
		Kind     string    `json:"kind"`
		From     string    `json:"from"`
		To       string    `json:"to"`
		Subject  string    `json:"subject"`
		Text     string    `json:"text"`
		HTML     string    `json:"html"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("dev mailbox: GET %s: %w", req.URL, err)
	}
	out := make([]*mailbox.Message, len(page))
	for i, m := range page {
		out[i] = &mailbox.Message{ID: m.ID, Received: m.Received, Via: m.Via, Kind: m.Kind,
			From: m.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	}
	return out, nil
}
