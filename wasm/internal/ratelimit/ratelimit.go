// Package ratelimit counts events per client in fixed windows, in bounded
// memory: the per-client limits of the hosted login page and of the SDK
// surface. See RATIONALE.md, "What rate limits does the login page add?".
package ratelimit

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// RemoteHost is the client of r by its connection: the host of
// r.RemoteAddr, the Go hosts' default client address (the Worker names the
// client by CF-Connecting-IP instead).
func RemoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// ClientKey is a rate limit's key for a client address: an IPv6 address
// counts as its /64, which one client usually holds whole.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is4() || a.Is4In6() {
		return a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Limiter counts events per client, each client in a fixed window of its
// own that starts with its first event, in bounded memory.
//
// A client is in one of two tables, each holding at most clients entries:
// counting (under the limit), in the order its clients' windows began, and
// full (at it), in the order its clients reached the limit. A client whose window has ended is the same
// as one never seen, so ended windows are dropped first, from the front of
// each table. When counting is still full, a new client takes the place of
// the one whose window began longest ago: an eviction only ever forgets
// events, so a flood of fresh addresses cannot lock out a client that
// comes after it, and the one forgotten could have posted at most max-1
// times more. A client at its limit is never pushed out by clients under
// theirs: to free one before its window ends takes filling the full table
// with others at their limit, max × clients events from as many
// addresses, which buy far more by themselves than the one they free.
// Each call does constant work, amortized.
type Limiter struct {
	max     int
	window  time.Duration
	clients int

	mu             sync.Mutex
	entries        map[string]*list.Element // of *limitEntry, in counting or full
	counting, full list.List
}

// limitEntry is one client's count in its current window.
type limitEntry struct {
	key   string
	start time.Time
	n     int
}

// New returns a limiter of max events per client per window, holding at
// most clients clients in each of its two tables.
func New(max int, window time.Duration, clients int) *Limiter {
	return &Limiter{max: max, window: window, clients: clients, entries: make(map[string]*list.Element)}
}

// Allow counts one event of client at now and reports whether it is within
// the limit, and if not how long until the client's window ends.
func (l *Limiter) Allow(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropEnded(&l.counting, now)
	l.dropEnded(&l.full, now)
	el := l.entries[client]
	if el != nil && l.ended(el.Value.(*limitEntry), now) {
		l.drop(el)
		el = nil
	}
	if el == nil {
		if l.counting.Len() >= l.clients {
			l.drop(l.counting.Front())
		}
		el = l.counting.PushBack(&limitEntry{key: client, start: now})
		l.entries[client] = el
	}
	e := el.Value.(*limitEntry)
	if e.n >= l.max {
		return false, e.start.Add(l.window).Sub(now)
	}
	e.n++
	if e.n == l.max {
		l.counting.Remove(el)
		if l.full.Len() >= l.clients {
			l.drop(l.full.Front())
		}
		l.entries[client] = l.full.PushBack(e)
	}
	return true, 0
}

// ended reports whether e's window is over at now (or now is before it: a
// clock set back starts a new window rather than prolong the old one).
func (l *Limiter) ended(e *limitEntry, now time.Time) bool {
	return now.Sub(e.start) >= l.window || now.Before(e.start)
}

// dropEnded drops the entries at the front of t whose window has ended.
// A client joins full when it reaches the limit, not when its window
// starts, so an ended window in full may wait behind a live one; it is
// dropped within one window, and its client starts afresh when it comes
// back either way.
func (l *Limiter) dropEnded(t *list.List, now time.Time) {
	for el := t.Front(); el != nil && l.ended(el.Value.(*limitEntry), now); el = t.Front() {
		l.drop(el)
	}
}

// drop forgets the client of el, in whichever table it is.
func (l *Limiter) drop(el *list.Element) {
	e := el.Value.(*limitEntry)
	delete(l.entries, e.key)
	if e.n >= l.max {
		l.full.Remove(el)
	} else {
		l.counting.Remove(el)
	}
}

// Size is the number of clients held.
func (l *Limiter) Size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}
