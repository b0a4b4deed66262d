package conformance

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// client drives one target from one test.
type client struct {
	t  *testing.T
	tg Target
	hc *http.Client
}

func newClient(t *testing.T, tg Target) *client {
	hc := tg.Client
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &client{t: t, tg: tg, hc: hc}
}

// obj is a decoded JSON object.
type obj = map[string]any

// response is one answer: its status and decoded body.
type response struct {
	status int
	body   obj
	header http.Header
}

type auth int

const (
	withAuth auth = iota
	noAuth
)

// do sends a request; body is marshalled unless it is a []byte or string.
func (c *client) do(method, path string, body any, a auth) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, c.tg.URL+path, rd)
	if err != nil {
		c.t.Fatalf("request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a == withAuth {
		req.SetBasicAuth(c.tg.ProjectID, c.tg.Secret)
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) response {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	r := response{status: res.StatusCode, header: res.Header}
	if req.Method != http.MethodHead {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s %s: status %d, body is not a JSON object: %v: %.200q", req.Method, req.URL.Path, res.StatusCode, err, raw)
		}
		c.checkEnvelope(req, r)
	}
	return r
}

var requestIDPattern = regexp.MustCompile(`^request-id-(test|live)-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkEnvelope asserts what every answer carries.
func (c *client) checkEnvelope(req *http.Request, r response) {
	c.t.Helper()
	if got, ok := r.body["status_code"].(float64); !ok || int(got) != r.status {
		c.t.Errorf("%s %s: status_code %v, HTTP status %d", req.Method, req.URL.Path, r.body["status_code"], r.status)
	}
	if id, _ := r.body["request_id"].(string); !requestIDPattern.MatchString(id) {
		c.t.Errorf("%s %s: request_id %q is not request-id-<env>-<uuid>", req.Method, req.URL.Path, id)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s %s: Content-Type %q", req.Method, req.URL.Path, ct)
	}
	if r.status >= 400 {
		typ, _ := r.body["error_type"].(string)
		want := fmt.Sprintf("https://stytch.com/docs/api/errors/%d#%s", r.status, typ)
		if typ == "" || r.body["error_url"] != want || r.body["error_message"] == "" {
			c.t.Errorf("%s %s: error body %v is not Stytch-shaped", req.Method, req.URL.Path, r.body)
		}
	}
}

func (c *client) post(path string, body any) response {
	c.t.Helper()
	return c.do(http.MethodPost, path, body, withAuth)
}

// concurrently posts body to path n times at once and returns the
// statuses. It may run outside the test goroutine, so failures to send are
// reported with Errorf (status 0), never Fatalf.
func (c *client) concurrently(n int, path string, body obj) []int {
	c.t.Helper()
	enc, err := json.Marshal(body)
	if err != nil {
		c.t.Fatalf("marshal: %v", err)
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, c.tg.URL+path, bytes.NewReader(enc))
			if err != nil {
				c.t.Errorf("request: %v", err)
				return
			}
			req.SetBasicAuth(c.tg.ProjectID, c.tg.Secret)
			res, err := c.hc.Do(req)
			if err != nil {
				c.t.Errorf("POST %s: %v", path, err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	return statuses
}

func (c *client) get(path string) response {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, withAuth)
}

// ok asserts a 200 and returns the body.
func (c *client) ok(r response) obj {
	c.t.Helper()
	if r.status != http.StatusOK {
		c.t.Fatalf("want 200, got %d: %v", r.status, r.body)
	}
	return r.body
}

// fails asserts an error answer with the given status and error_type.
func (c *client) fails(r response, status int, errorType string) {
	c.t.Helper()
	if r.status != status || r.body["error_type"] != errorType {
		c.t.Fatalf("want %d %s, got %d %v: %v", status, errorType, r.status, r.body["error_type"], r.body["error_message"])
	}
}

// uniqueEmail returns an address no other case uses.
func uniqueEmail(tag string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s@example.com", tag, hex.EncodeToString(b))
}

// newUser creates a user and returns its id and email.
func (c *client) newUser(tag string) (id, email string) {
	c.t.Helper()
	email = uniqueEmail(tag)
	body := c.ok(c.post("/v1/users", obj{"email": email, "name": obj{"first_name": "Ada", "last_name": "Lovelace"}}))
	return str(c.t, body, "user_id"), email
}

// magicLink creates a magic link for user and returns its token.
func (c *client) magicLink(userID string) string {
	c.t.Helper()
	return str(c.t, c.ok(c.post("/v1/magic_links", obj{"user_id": userID})), "token")
}

// login creates a user and a session through a magic link.
func (c *client) login(tag string, minutes int) (userID string, body obj) {
	c.t.Helper()
	userID, _ = c.newUser(tag)
	body = c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": minutes}))
	return userID, body
}

// str returns body[key] as a non-empty string or fails.
func str(t *testing.T, body obj, key string) string {
	t.Helper()
	s, ok := body[key].(string)
	if !ok || s == "" {
		t.Fatalf("%s: want a non-empty string, got %#v", key, body[key])
	}
	return s
}

// field walks nested objects: field(body, "session", "session_id").
func field(body obj, path ...string) any {
	var cur any = body
	for _, p := range path {
		m, ok := cur.(obj)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") || strings.Contains(s, ".") {
		t.Fatalf("time %q is not RFC 3339 UTC with second precision", s)
	}
	return tm
}

// advance moves the target's clock or skips a case that needs it.
func (c *client) advance(d time.Duration) {
	c.t.Helper()
	if c.tg.Advance == nil {
		c.t.Skip("host runs on real time; this case needs its clock moved")
	}
	c.tg.Advance(d)
}
