package verifier

import (
	"sync"
	"sync/atomic"
)

// headerCache remembers the kid of JOSE header segments seen in tokens
// that verified. All tokens a key signs share one header segment, so the
// cold path usually skips decoding and parsing the header. The mapping is
// a pure function of the segment (what parseHeader returns for it), so
// caching it changes no answer; only headers of tokens that passed every
// check are added, so forged tokens cannot churn it.
type headerCache struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[string]string]
}

const maxHeaders = 16

func (c *headerCache) get(seg string) (string, bool) {
	m := c.m.Load()
	if m == nil {
		return "", false
	}
	kid, ok := (*m)[seg]
	return kid, ok
}

// add records seg's kid, starting afresh when the cache is full.
func (c *headerCache) add(seg, kid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	next := make(map[string]string, maxHeaders)
	if old != nil && len(*old) < maxHeaders {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[seg] = kid
	c.m.Store(&next)
}
