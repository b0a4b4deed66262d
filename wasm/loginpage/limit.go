package loginpage

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// The page's own rate limit: each client (Config.ClientIP) may post at
// most limitPosts forms per limitWindow. It is per process (per isolate on
// the Worker) and forgets on restart: the lasting limits are the API's own,
// per address (mail) and per factor (attempts). See RATIONALE.md, "What
// rate limits does the login page add?".
const (
	limitPosts   = 30
	limitWindow  = time.Minute
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
	return p.limits.allow(key, p.Now())
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

// limiter counts posts per client in fixed windows.
type limiter struct {
	mu     sync.Mutex
	start  time.Time
	counts map[string]int
}

// allow counts one post of client at now and reports whether it is within
// the limit, and if not how long until the window turns.
func (l *limiter) allow(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= limitWindow || now.Before(l.start) || l.counts == nil {
		l.start, l.counts = now, make(map[string]int)
	}
	n, seen := l.counts[client]
	if !seen && len(l.counts) >= limitClients {
		// Full: the clients seen this window keep their counts; a new one
		// is counted under one shared key, so a flood of fresh addresses
		// cannot grow the map or escape the limit.
		client, n = "", l.counts[""]
	}
	if n >= limitPosts {
		return false, limitWindow - now.Sub(l.start)
	}
	l.counts[client] = n + 1
	return true, 0
}
