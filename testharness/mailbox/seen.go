package mailbox

import (
	"errors"
	"sync"
	"time"
)

// maxSeenIDs bounds the webhook ids a WebhookHandler remembers: far more
// than a developer or a test run mails in ten minutes, in about a
// megabyte.
const maxSeenIDs = 10_000

var (
	errSeen    = errors.New("mailbox: webhook id already received")
	errTooMany = errors.New("mailbox: too many webhook ids to remember")
)

// seenIDs remembers the ids of the webhook posts taken, each for keep —
// as long as a replay of its post could still verify — and at most max
// of them at once.
type seenIDs struct {
	mu    sync.Mutex
	until map[string]time.Time // id → when it may be forgotten
	keep  time.Duration
	max   int
}

func newSeenIDs(keep time.Duration, max int) *seenIDs {
	return &seenIDs{until: map[string]time.Time{}, keep: keep, max: max}
}

// add records id as taken at now: errSeen if it was taken within keep,
// errTooMany if max ids taken within keep are remembered already, since
// forgetting one early would let its post be replayed.
func (s *seenIDs) add(id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.until[id]; ok && now.Before(until) {
		return errSeen
	}
	if len(s.until) >= s.max {
		for old, until := range s.until {
			if !now.Before(until) {
				delete(s.until, old)
			}
		}
		if len(s.until) >= s.max {
			return errTooMany
		}
	}
	s.until[id] = now.Add(s.keep)
	return nil
}
