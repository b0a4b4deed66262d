package testharness

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/native"
)

// Each benchmark runs the same HTTP calls against the engine under wazero
// and against the native engine (httptest.NewServer(engine) over the same
// kind of in-memory SQLite and a keys.Signer), and reports the wazero
// figure as a multiple of the native one ("x-native").
//
//	go test ./testharness -run '^$' -bench . -benchtime 2s

// target is a Latch to run the benchmark's calls against.
type target = *apitest.Client

func wazeroTarget(b *testing.B, instances int) target {
	s, err := New(Config{Instances: instances})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return &apitest.Client{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret, HTTP: http.DefaultClient}
}

func nativeTarget(b *testing.B) target {
	s := native.Start(b, native.Config{})
	return &apitest.Client{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret, HTTP: http.DefaultClient}
}

// compare runs op against native then wazero and reports the ratio.
func compare(b *testing.B, op func(b *testing.B, tg target)) {
	var native float64
	b.Run("native", func(b *testing.B) {
		op(b, nativeTarget(b))
		native = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("wazero", func(b *testing.B) {
		op(b, wazeroTarget(b, 0))
		if native > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/native, "x-native")
		}
	})
}

func newUser(b *testing.B, tg target) string {
	return tg.MustPost(b, "/v1/users", map[string]any{"email": fmt.Sprintf("bench-%p@example.com", b)})["user_id"].(string)
}

// BenchmarkMagicLinkAuthenticate measures POST /v1/magic_links/authenticate
// with session_duration_minutes: token check, session creation and a
// freshly signed session JWT. Creating each link is outside the timer.
func BenchmarkMagicLinkAuthenticate(b *testing.B) {
	compare(b, func(b *testing.B, tg target) {
		user := newUser(b, tg)
		for b.Loop() {
			b.StopTimer()
			token := tg.MustPost(b, "/v1/magic_links", map[string]any{"user_id": user})["token"]
			b.StartTimer()
			tg.MustPost(b, "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 60})
		}
	})
}

// BenchmarkSessionsAuthenticate measures POST /v1/sessions/authenticate
// with a session token: lookup, last_accessed_at bookkeeping and a fresh
// JWT.
func BenchmarkSessionsAuthenticate(b *testing.B) {
	compare(b, func(b *testing.B, tg target) {
		user := newUser(b, tg)
		token := tg.MustPost(b, "/v1/magic_links", map[string]any{"user_id": user})["token"]
		auth := tg.MustPost(b, "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 600})
		body := map[string]any{"session_token": auth["session_token"]}
		for b.Loop() {
			tg.MustPost(b, "/v1/sessions/authenticate", body)
		}
	})
}

// BenchmarkSessionsAuthenticateParallel measures the same call from many
// goroutines, with one guest instance and with four, to size the pool.
func BenchmarkSessionsAuthenticateParallel(b *testing.B) {
	run := func(b *testing.B, tg target) {
		user := newUser(b, tg)
		token := tg.MustPost(b, "/v1/magic_links", map[string]any{"user_id": user})["token"]
		auth := tg.MustPost(b, "/v1/magic_links/authenticate", map[string]any{"token": token, "session_duration_minutes": 600})
		body := map[string]any{"session_token": auth["session_token"]}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tg.MustPost(b, "/v1/sessions/authenticate", body)
			}
		})
	}
	b.Run("native", func(b *testing.B) { run(b, nativeTarget(b)) })
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("wazero-%d", n), func(b *testing.B) { run(b, wazeroTarget(b, n)) })
	}
}
