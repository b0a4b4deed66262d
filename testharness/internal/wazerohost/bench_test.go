package wazerohost

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
)

func newUser(b *testing.B, tg *apitest.Client) string {
	return tg.MustPost(b, "/v1/users", map[string]any{"email": fmt.Sprintf("bench-%p@example.com", b)})["user_id"].(string)
}

// BenchmarkFileStoreSynchronous measures what synchronous=FULL costs a
// file store against NORMAL. Each op creates a magic link and
// authenticates it into a session (link insert, single-use consume,
// session insert, JWT), all writes, under wazero on a SQLite file in the
// test's temporary directory. The two servers take turns op by op, so
// both see the same disk and load; it reports each one's mean and
// "x-normal", FULL's mean over NORMAL's.
//
//	go test ./testharness/internal/wazerohost -run '^$' -bench FileStoreSynchronous -benchtime 400x -count 3
func BenchmarkFileStoreSynchronous(b *testing.B) {
	modes := []string{"normal", "full"}
	targets := make([]*apitest.Client, len(modes))
	users := make([]string, len(modes))
	for i, mode := range modes {
		s, err := newServer(Config{DBPath: filepath.Join(b.TempDir(), "latch.db"), synchronous: mode})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		targets[i] = &apitest.Client{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret, HTTP: http.DefaultClient}
		users[i] = newUser(b, targets[i])
	}
	spent := make([]time.Duration, len(modes))
	for b.Loop() {
		for i, tg := range targets {
			start := time.Now()
			token := tg.MustPost(b, "/v1/magic_links", map[string]any{"user_id": users[i]})["token"]
			tg.MustPost(b, "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 60})
			spent[i] += time.Since(start)
		}
	}
	for i, mode := range modes {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), mode+"-ns/op")
	}
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "x-normal")
}
