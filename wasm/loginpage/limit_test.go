package loginpage

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
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimiterBounded(t *testing.T) {
	var l limiter
	now := time.Unix(1_800_000_000, 0)
	for i := range limitClients + 500 {
		l.allow(strconv.Itoa(i), now)
	}
	if len(l.counts) > limitClients+1 {
		t.Errorf("%d clients counted, want at most %d", len(l.counts), limitClients+1)
	}
	// Clients past the bound share one budget: a flood of fresh
	// addresses is limited too.
	ok := 0
	for i := range 100 {
		if allowed, _ := l.allow("fresh-"+strconv.Itoa(i), now); allowed {
			ok++
		}
	}
	if ok > limitPosts {
		t.Errorf("%d posts from fresh clients allowed past the bound, want at most %d", ok, limitPosts)
	}
	if allowed, _ := l.allow("fresh-0", now.Add(limitWindow)); !allowed {
		t.Error("not allowed in the next window")
	}
}
