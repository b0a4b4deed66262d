//go:build !js

package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkFeedLatency measures the revocation feed on workerd: b.N
// sessions revoked one at a time while readers long-poll the feed (through
// the Durable Object), each revoke timed from its answer until every
// reader holds its event. Reported: p50, p99 and max in ms. Run with a
// fixed count, e.g. -benchtime=200x (BENCHMARKS.md).
func BenchmarkFeedLatency(b *testing.B) {
	for _, readers := range []int{2, 8} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) { benchFeed(b, readers) })
	}
}

func benchFeed(b *testing.B, readers int) {
	w := Start(b, Options{})
	a := newAPI(b, w.Target)
	user, err := a.try(http.MethodPost, "/v1/users", map[string]any{"email": "bench@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, b.N)
	for i := range ids {
		if ids[i], _, err = a.newSession(user["user_id"]); err != nil {
			b.Fatal(err)
		}
	}
	_, cursor, err := a.feedRead("", 0)
	if err != nil {
		b.Fatal(err)
	}

	// Each reader reports (session, time it held the event).
	type arrival struct {
		id string
		at time.Time
	}
	got := make(chan arrival, readers*b.N)
	stop := make(chan struct{})
	errs := make(chan error, readers)
	for range readers {
		go func() {
			c := cursor
			for {
				select {
				case <-stop:
					return
				default:
				}
				events, next, err := a.feedRead(c, 20)
				at := time.Now()
				if err != nil {
					errs <- err
					return
				}
				for _, id := range events {
					got <- arrival{id: id, at: at}
				}
				c = next
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the readers wait in the object

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for _, id := range ids {
		if _, err := a.try(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": id}); err != nil {
			b.Fatal(err)
		}
		answered := time.Now()
		var last time.Time
		for n := 0; n < readers; {
			select {
			case ar := <-got:
				if ar.id != id {
					b.Fatalf("a reader got session %s while %s was being revoked", ar.id, id)
				}
				if ar.at.After(last) {
					last = ar.at
				}
				n++
			case err := <-errs:
				b.Fatal(err)
			case <-time.After(10 * time.Second):
				b.Fatalf("session %s: not every reader had its event 10 s after the revoke answered", id)
			}
		}
		lat = append(lat, max(last.Sub(answered), 0))
	}
	b.StopTimer()
	close(stop)
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	// The readers still hold a read; stopping the Worker (Cleanup) ends it.
}
