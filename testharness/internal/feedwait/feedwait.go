// Package feedwait is how the Go hosts hold revocation feed requests: a
// GET /v1/sessions/revocations with wait > 0 that the engine answers with
// no event is asked again each time a revoke lands (Waiter.Notify, wired
// as engine.Config.Revoked), until an event comes, the wait passes or the
// caller leaves. A waiting request costs no store read until then.
package feedwait

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/latchauth/latch/wasm/engine"
)

// Path is the feed's path.
const Path = "/v1/sessions/revocations"

// MaxWait is the longest a request is held: the engine refuses a longer
// wait (engine.MaxRevocationWait seconds).
const MaxWait = engine.MaxRevocationWait * time.Second

// Waiter wakes the requests held on it. The zero value is not usable;
// call New.
type Waiter struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced by Notify
}

// New returns a Waiter.
func New() *Waiter { return &Waiter{changed: make(chan struct{})} }

// Notify wakes every held request: sessions have ended early. It never
// blocks.
func (w *Waiter) Notify() {
	w.mu.Lock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

func (w *Waiter) current() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// Handler serves next, holding feed requests with wait > 0 as the package
// doc says. Every other request goes to next untouched.
func (w *Waiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		wait, _ := strconv.Atoi(r.URL.Query().Get("wait"))
		if r.Method != http.MethodGet || r.URL.Path != Path || wait <= 0 || wait > engine.MaxRevocationWait {
			next.ServeHTTP(rw, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Duration(wait)*time.Second)
		defer cancel()
		for {
			// Take the channel before reading, so a revoke that lands
			// during the read still wakes the next wait.
			changed := w.current()
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK || hasNews(rec.Body.Bytes()) {
				copyResponse(rw, rec)
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				copyResponse(rw, rec)
				return
			}
		}
	})
}

// hasNews reports whether a feed answer carries events or a reset.
func hasNews(body []byte) bool {
	var a struct {
		Events []json.RawMessage `json:"events"`
		Reset  bool              `json:"reset"`
	}
	return json.Unmarshal(body, &a) != nil || len(a.Events) > 0 || a.Reset
}

func copyResponse(rw http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	_, _ = bytes.NewReader(rec.Body.Bytes()).WriteTo(rw)
}
