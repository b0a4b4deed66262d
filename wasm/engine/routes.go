package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
)

// handlerFunc serves one endpoint; returning an error answers with it.
type handlerFunc func(e *Engine, c *call) error

type route struct {
	method string
	public bool // no project auth (the JWKS)
	fn     handlerFunc
}

// routeTable maps a path pattern to its routes. A trailing "/*" segment
// matches one non-empty path segment, passed to the handler as c.r.PathValue("id").
type routeTable map[string][]route

func (e *Engine) routes() routeTable {
	return routeTable{
		"/v1/users":                    {{method: http.MethodPost, fn: (*Engine).createUser}},
		"/v1/users/*":                  {{method: http.MethodGet, fn: (*Engine).getUser}, {method: http.MethodDelete, fn: (*Engine).deleteUser}},
		"/v1/magic_links":              {{method: http.MethodPost, fn: (*Engine).createMagicLink}},
		"/v1/magic_links/authenticate": {{method: http.MethodPost, fn: (*Engine).authenticateMagicLink}},
		"/v1/passwords":                {{method: http.MethodPost, fn: (*Engine).createPassword}},
		"/v1/passwords/authenticate":   {{method: http.MethodPost, fn: (*Engine).authenticatePassword}},
		"/v1/passwords/strength_check": {{method: http.MethodPost, fn: (*Engine).strengthCheck}},
		"/v1/sessions":                 {{method: http.MethodGet, fn: (*Engine).listSessions}},
		"/v1/sessions/authenticate":    {{method: http.MethodPost, fn: (*Engine).authenticateSession}},
		"/v1/sessions/revoke":          {{method: http.MethodPost, fn: (*Engine).revokeSession}},
		"/v1/sessions/jwks/*":          {{method: http.MethodGet, public: true, fn: (*Engine).jwks}},
	}
}

// match finds the routes for path and the value of its wildcard segment.
func (t routeTable) match(path string) ([]route, string) {
	path = strings.TrimSuffix(path, "/")
	if rs, ok := t[path]; ok {
		return rs, ""
	}
	i := strings.LastIndexByte(path, '/')
	if i < 0 || i == len(path)-1 {
		return nil, ""
	}
	if rs, ok := t[path[:i]+"/*"]; ok {
		return rs, path[i+1:]
	}
	return nil, ""
}

func (e *Engine) serve(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, requestID: e.newID("request-id")}
	defer func() {
		if v := recover(); v != nil {
			e.cfg.Logger.Error("engine: panic", "request_id", c.requestID, "path", clip(r.URL.Path), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.fail(errInternal)
		}
	}()
	rs, id := e.mux.match(r.URL.Path)
	if rs == nil {
		c.fail(errNotFound)
		return
	}
	var rt *route
	for i := range rs {
		if rs[i].method == r.Method || (r.Method == http.MethodHead && rs[i].method == http.MethodGet) {
			rt = &rs[i]
		}
	}
	if rt == nil {
		allow := make([]string, 0, len(rs))
		for _, x := range rs {
			allow = append(allow, x.method)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		c.fail(errMethodNotAllowed)
		return
	}
	if !rt.public && !e.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="latch"`)
		c.fail(errUnauthorized)
		return
	}
	r.SetPathValue("id", id)
	if err := rt.fn(e, c); err != nil {
		ae := asAPIError(err)
		if ae == errInternal {
			e.cfg.Logger.Error("engine: request failed", "request_id", c.requestID, "path", clip(r.URL.Path), "err", err)
		}
		c.fail(ae)
	}
}

// authorized checks project Basic auth in constant time. Both sides are
// hashed first so the comparison does not leak their lengths either.
func (e *Engine) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	okUser := subtle.ConstantTimeCompare(u[:], e.wantUser[:])
	okPass := subtle.ConstantTimeCompare(p[:], e.wantPass[:])
	return okUser&okPass == 1
}
