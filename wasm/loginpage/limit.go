package loginpage

import (
	"container/list"
	"context"
	"net/netip"
	"sync"
	"time"
)

// The page's own rate limits, per client (Config.ClientIP): at most
// limitPosts forms per limitWindow, and of those at most limitMails that
// ask for a mail (a code, a sign-in link, a reset link) per
// limitMailWindow. They are per process (per isolate on the Worker) and
// forget on restart: the lasting limits are the API's own, per address
// (mail) and per factor (attempts). See RATIONALE.md, "What rate limits
// does the login page add?".
const (
	limitPosts      = 30
	limitWindow     = time.Minute
	limitMails      = 10
	limitMailWindow = 10 * time.Minute
	// limitClients bounds each of a limiter's two tables (clients under
	// their limit, clients at it), so that it holds at most twice as many.
	limitClients = 10000
)

// allow counts one post of the client key, in Config.Limit when set and in
// the page's own count, and reports whether it may go on, and if not how
// long until it may.
func (p *page) allow(ctx context.Context, key string) (bool, time.Duration) {
	if p.Limit != nil {
		ok, err := p.Limit(ctx, key)
		switch {
		case err != nil:
			p.Logger.Warn("loginpage: rate limit unavailable; the page's own count decides", "err", err)
		case !ok:
			return false, limitWindow
		}
	}
	return p.posts.allow(key, p.Now())
}

// clientKey is the rate limit's key for a client address: an IPv6 address
// counts as its /64, which one client usually holds whole.
func clientKey(ip string) string {
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

// limiter counts events per client, each client in a fixed window of its
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
type limiter struct {
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

func newLimiter(max int, window time.Duration, clients int) *limiter {
	return &limiter{max: max, window: window, clients: clients, entries: make(map[string]*list.Element)}
}

// allow counts one event of client at now and reports whether it is within
// the limit, and if not how long until the client's window ends.
func (l *limiter) allow(client string, now time.Time) (bool, time.Duration) {
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
func (l *limiter) ended(e *limitEntry, now time.Time) bool {
	return now.Sub(e.start) >= l.window || now.Before(e.start)
}

// dropEnded drops the entries at the front of t whose window has ended.
// A client joins full when it reaches the limit, not when its window
// starts, so an ended window in full may wait behind a live one; it is
// dropped within one window, and its client starts afresh when it comes
// back either way.
func (l *limiter) dropEnded(t *list.List, now time.Time) {
	for el := t.Front(); el != nil && l.ended(el.Value.(*limitEntry), now); el = t.Front() {
		l.drop(el)
	}
}

// drop forgets the client of el, in whichever table it is.
func (l *limiter) drop(el *list.Element) {
	e := el.Value.(*limitEntry)
	delete(l.entries, e.key)
	if e.n >= l.max {
		l.full.Remove(el)
	} else {
		l.counting.Remove(el)
	}
}

// size is the number of clients held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}
