package loginpage

import (
	"context"
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
	return p.posts.Allow(key, p.Now())
}
