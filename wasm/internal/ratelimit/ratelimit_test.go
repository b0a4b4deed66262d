package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"not an address":       "not an address",
		"":                     "",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLimiterWindow: each client has a window of its own, from its first
// event; the refusal says when that window ends.
func TestLimiterWindow(t *testing.T) {
	l := New(3, time.Minute, 100)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, _ := l.Allow("a", t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if ok, wait := l.Allow("a", t0.Add(20*time.Second)); ok || wait != 40*time.Second {
		t.Errorf("fourth event: %v, wait %v; want refused for 40s", ok, wait)
	}
	// Another client's window starts with its own first event.
	if ok, _ := l.Allow("b", t0.Add(30*time.Second)); !ok {
		t.Error("another client refused")
	}
	if ok, _ := l.Allow("a", t0.Add(time.Minute)); !ok {
		t.Error("refused once its window ended")
	}
	// A clock set back starts a new window.
	if ok, _ := l.Allow("b", t0); !ok {
		t.Error("refused after the clock went back")
	}
}

// TestLimiterFlood: a flood of fresh clients, many more than the limiter
// holds, leaves its memory bounded, never locks out a client that comes
// after it and frees no client that is at its limit.
func TestLimiterFlood(t *testing.T) {
	const max, clients = 5, 1000
	cases := []struct {
		name     string
		flood    int // fresh clients
		each     int // events of each
		stillOut bool
	}{
		{name: "one event each", flood: 20 * clients, each: 1, stillOut: true},
		{name: "each under its limit", flood: 5 * clients, each: max - 1, stillOut: true},
		{name: "each at its limit, fewer than the full table", flood: clients - 1, each: max, stillOut: true},
		// Only as many clients at their limit as the full table holds
		// push one out: max × clients events.
		{name: "each at its limit, the full table over", flood: 3 * clients, each: max, stillOut: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := New(max, time.Hour, clients)
			now := time.Unix(1_800_000_000, 0)
			for range max {
				l.Allow("over", now)
			}
			if ok, _ := l.Allow("over", now); ok {
				t.Fatal("not limited to begin with")
			}
			for i := range tc.flood {
				for range tc.each {
					l.Allow("flood-"+strconv.Itoa(i), now)
				}
			}
			if n := l.Size(); n > 2*clients {
				t.Errorf("%d clients held, want at most %d", n, 2*clients)
			}
			if ok, _ := l.Allow("newcomer", now); !ok {
				t.Error("a new client after the flood is refused")
			}
			if ok, _ := l.Allow("over", now); ok == tc.stillOut {
				t.Errorf("the client at its limit allowed: %v, want %v", ok, !tc.stillOut)
			}
		})
	}
}

// TestLimiterForgetsEnded: clients whose windows have ended are dropped,
// not kept until the table fills.
func TestLimiterForgetsEnded(t *testing.T) {
	l := New(2, time.Minute, 100)
	now := time.Unix(1_800_000_000, 0)
	for i := range 50 {
		l.Allow("a-"+strconv.Itoa(i), now)
		l.Allow("b-"+strconv.Itoa(i), now)
		l.Allow("b-"+strconv.Itoa(i), now) // at the limit: the full table
	}
	if n := l.Size(); n != 100 {
		t.Fatalf("%d clients held, want 100", n)
	}
	l.Allow("later", now.Add(2*time.Minute))
	if n := l.Size(); n != 1 {
		t.Errorf("%d clients held after their windows ended, want 1", n)
	}
}
