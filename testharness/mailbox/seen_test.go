package mailbox

import (
	"errors"
	"testing"
	"time"
)

// TestSeenIDs walks a small id cache through time: an id is refused while
// it is remembered, the cache refuses more ids than it may hold rather
// than forget a live one, and ids older than keep make room.
func TestSeenIDs(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	s := newSeenIDs(10*time.Minute, 3)
	for _, step := range []struct {
		name string
		id   string
		at   time.Duration // after t0
		want error
		held int
	}{
		{name: "first", id: "a", want: nil, held: 1},
		{name: "second", id: "b", at: time.Minute, want: nil, held: 2},
		{name: "a again", id: "a", at: 2 * time.Minute, want: errSeen, held: 2},
		{name: "third", id: "c", at: 3 * time.Minute, want: nil, held: 3},
		{name: "full of live ids", id: "d", at: 4 * time.Minute, want: errTooMany, held: 3},
		{name: "a just before it is forgotten", id: "a", at: 10*time.Minute - time.Second, want: errSeen, held: 3},
		{name: "a forgotten makes room", id: "d", at: 10 * time.Minute, want: nil, held: 3},
		{name: "a taken again once forgotten", id: "a", at: 11 * time.Minute, want: nil, held: 3},
		{name: "c still remembered", id: "c", at: 12 * time.Minute, want: errSeen, held: 3},
		{name: "every forgotten id swept", id: "e", at: 20*time.Minute + time.Second, want: nil, held: 2},
	} {
		if err := s.add(step.id, t0.Add(step.at)); !errors.Is(err, step.want) || step.want == nil && err != nil {
			t.Errorf("%s: add(%q) = %v, want %v", step.name, step.id, err, step.want)
		}
		if n := len(s.until); n != step.held {
			t.Errorf("%s: %d ids held, want %d", step.name, n, step.held)
		}
	}
}
