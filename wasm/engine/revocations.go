package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const (
	// revocationPage bounds the events of one answer; has_more says
	// there are more, to be read at once.
	revocationPage = 1000
	// MaxRevocationWait is the longest wait (seconds) a feed request may
	// ask its host for.
	MaxRevocationWait = 30
	// revocationBacklog is how far back a feed read without a cursor
	// starts for sessions: the JWT lifetime plus the largest leeway a
	// verifier may use, so a verifier that starts now learns of every
	// revoked session whose JWTs it could still accept.
	revocationBacklog = jwtLifetime + jwksGrace
	// clientBacklog is the same for clients, whose tokens live an hour.
	clientBacklog = m2mTokenLifetime + jwksGrace
)

var errInvalidCursor = newError(http.StatusBadRequest, "invalid_cursor", "cursor is not one the feed returned.")

// revocationEvent is one early end of a session ({revoked_at,
// session_id, user_id}) or of every token an M2M client holds
// ({client_id, revoked_at}): the client was deactivated or deleted, or
// finished a rotation of its secret.
type revocationEvent struct {
	ClientID  string `json:"client_id,omitempty"`
	RevokedAt string `json:"revoked_at"`
	SessionID string `json:"session_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// revocationsPath is the feed's path.
const revocationsPath = "/v1/sessions/revocations"

// GET /v1/sessions/revocations?cursor=…&wait=… — the sessions that ended
// early after cursor, oldest first (a Latch extension). The engine answers
// at once; a host that supports waiting holds a request with wait > 0 and
// asks again when a revoke lands (testharness/internal/feedwait; on the Worker,
// after ServeFeedWait). A cursor the feed no longer covers answers reset:
// true with a fresh cursor.
func (e *Engine) revocations(c *call) error {
	q := c.r.URL.Query()
	if _, err := feedWait(q); err != nil {
		return err
	}
	ctx := c.r.Context()
	events, cursor, reset, more, err := e.readFeed(ctx, q.Get("cursor"))
	if err != nil {
		return err
	}
	c.reply(map[string]any{"events": events, "cursor": cursor, "reset": reset, "has_more": more})
	return nil
}

// ServeFeedWait is for a host that holds the feed's waiting reads outside
// the engine (the Worker, in a Durable Object). It reports whether r is a
// read to hold: GET /v1/sessions/revocations with the project's
// credentials, a wait from 1 to MaxRevocationWait and a cursor the feed
// could have returned (or none). Then it writes nothing, and the host may
// hold r and ask ServeHTTP for it when it chooses. Any other request it
// answers at once, as ServeHTTP does: a read without the credentials gets
// the engine's 401 before the host holds or forwards anything. It reads
// no store to decide. See RATIONALE.md, "Why does the Worker's engine see
// a waiting read before the feed's object?".
func (e *Engine) ServeFeedWait(w http.ResponseWriter, r *http.Request) (hold bool) {
	if r.Method == http.MethodGet && r.URL.Path == revocationsPath && e.authorized(r) {
		q := r.URL.Query()
		wait, err := feedWait(q)
		if c := q.Get("cursor"); err == nil && c != "" {
			_, err = parseFeedCursor(c)
		}
		if err == nil && wait > 0 {
			return true
		}
	}
	e.ServeHTTP(w, r)
	return false
}

// feedWait is the wait a feed read asks for, in seconds (0 when absent).
func feedWait(q url.Values) (int, error) {
	w := q.Get("wait")
	if w == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(w)
	if err != nil || n < 0 || n > MaxRevocationWait {
		return 0, badRequest("wait must be a whole number of seconds from 0 to %d.", MaxRevocationWait)
	}
	return n, nil
}

// parseFeedCursor reads a cursor of the feed's form: a sequence number in
// canonical decimal. Whether the feed still covers it is readFeed's
// business.
func parseFeedCursor(cursor string) (int64, error) {
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != cursor {
		return 0, errInvalidCursor
	}
	return n, nil
}

// readFeed returns the events after cursor, or the backlog (every session
// event of the last revocationBacklog seconds, every client event of the
// last clientBacklog) when cursor is "" or no longer covered (reset). next
// is the cursor to read on from.
func (e *Engine) readFeed(ctx context.Context, cursor string) (events []revocationEvent, next string, reset, more bool, err error) {
	var last int64 // the highest seq ever written
	err = e.cfg.DB.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'session_revocations'), 0)`).Scan(&last)
	if err != nil {
		return nil, "", false, false, fmt.Errorf("engine: feed: %w", err)
	}
	from := last
	now := e.now()
	query, args := `SELECT seq, session_id, user_id, client_id, revoked_at FROM session_revocations
		WHERE revoked_at >= ? AND (client_id != '' OR revoked_at >= ?) ORDER BY seq LIMIT ?`,
		[]any{now - clientBacklog, now - revocationBacklog, revocationPage + 1}
	if cursor != "" {
		n, perr := parseFeedCursor(cursor)
		if perr != nil {
			return nil, "", false, false, perr
		}
		// A cursor past the end, or whose next event was dropped, may
		// have missed events: start over. The cursor's own event going
		// is no sign of that: the triggers drop events two hours old
		// when the next one is written, so a reader caught up before a
		// quiet night finds its own event gone and every later one kept.
		var kept int
		if err := e.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM session_revocations WHERE seq = ?`, n+1).Scan(&kept); err != nil {
			return nil, "", false, false, fmt.Errorf("engine: feed: %w", err)
		}
		reset = n > last || (n < last && kept == 0)
		if !reset {
			from = n
			query, args = `SELECT seq, session_id, user_id, client_id, revoked_at FROM session_revocations WHERE seq > ? ORDER BY seq LIMIT ?`,
				[]any{n, revocationPage + 1}
		}
	}
	rows, err := e.cfg.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", false, false, fmt.Errorf("engine: feed: %w", err)
	}
	defer rows.Close()
	events = []revocationEvent{}
	for rows.Next() {
		var seq, at int64
		var ev revocationEvent
		if err := rows.Scan(&seq, &ev.SessionID, &ev.UserID, &ev.ClientID, &at); err != nil {
			return nil, "", false, false, fmt.Errorf("engine: feed: %w", err)
		}
		if len(events) == revocationPage {
			more = true
			break
		}
		ev.RevokedAt = stamp(at)
		events = append(events, ev)
		from = seq
	}
	if err := rows.Err(); err != nil {
		return nil, "", false, false, fmt.Errorf("engine: feed: %w", err)
	}
	return events, strconv.FormatInt(from, 10), reset, more, nil
}

// revoked tells the host that sessions or a client's tokens ended early,
// so that it wakes the feed's waiting requests (Config.Revoked).
func (e *Engine) revoked() {
	if e.cfg.Revoked != nil {
		e.cfg.Revoked()
	}
}
