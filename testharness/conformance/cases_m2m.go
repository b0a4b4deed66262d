package conformance

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Machine-to-machine clients: the client API, the OAuth 2 token endpoint
// (RFC 6749 client credentials), the M2M JWT and the client events of the
// revocation feed.

var m2mClientIDPattern = regexp.MustCompile(`^m2m-client-(test|live)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

var m2mCases = []testCase{
	{name: "m2m/create shows the secret once", run: func(t *testing.T, c *client) {
		name := "billing-" + randomHex(6)
		m := c.createM2MClient(obj{"client_name": name, "client_description": "nightly invoices",
			"scopes": []string{"read:users", "write:invoices"}, "trusted_metadata": obj{"team": "billing"}})
		id, secret := str(t, m, "client_id"), str(t, m, "client_secret")
		if !m2mClientIDPattern.MatchString(id) {
			t.Errorf("client_id %q is not m2m-client-<env>-<uuid>", id)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) < 32 {
			t.Errorf("client_secret %q is not 32 or more random bytes, base64url", secret)
		}
		if m["client_secret_last_four"] != lastFour(secret) || m["next_client_secret_last_four"] != nil {
			t.Errorf("client_secret_last_four %v next_client_secret_last_four %v", m["client_secret_last_four"], m["next_client_secret_last_four"])
		}
		if m["client_name"] != name || m["client_description"] != "nightly invoices" || m["status"] != "active" ||
			field(m, "trusted_metadata", "team") != "billing" {
			t.Errorf("create: %v", m)
		}
		if scopes, _ := m["scopes"].([]any); len(scopes) != 2 || scopes[0] != "read:users" || scopes[1] != "write:invoices" {
			t.Errorf("scopes %v", m["scopes"])
		}
		got := c.m2mGet(id)
		for _, k := range []string{"client_id", "client_name", "client_description", "status", "client_secret_last_four"} {
			if got[k] != m[k] {
				t.Errorf("get %s %v, create %v", k, got[k], m[k])
			}
		}
		// A second client never shares the first one's secret.
		if other := c.newM2MClient("create"); other.secret == secret || other.id == id {
			t.Errorf("two clients share an id or a secret")
		}
	}},
	{name: "m2m/given id and secret", run: func(t *testing.T, c *client) {
		id := "svc_" + randomHex(8)
		// Characters that HTTP Basic carries form-encoded (RFC 6749 2.3.1).
		secret := base64.StdEncoding.EncodeToString([]byte(randomHex(15))) + "+/:%="
		m := c.createM2MClient(obj{"client_id": id, "client_secret": secret, "client_name": "given", "scopes": []string{"read"}})
		if m["client_id"] != id || m["client_secret"] != secret || m["client_secret_last_four"] != lastFour(secret) {
			t.Errorf("create with a given id and secret: %v", m)
		}
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			if _, err := c.clientCredentials(id, secret, style); err != nil {
				t.Errorf("auth style %d: %v", style, err)
			}
		}
		r := c.post("/v1/m2m/clients", obj{"client_id": id, "client_name": "again"})
		if r.status != http.StatusBadRequest && r.status != http.StatusConflict {
			t.Errorf("a second client %s: %d %v, want 400 or 409", id, r.status, r.body["error_type"])
		}
		for name, body := range map[string]obj{
			"short secret":       {"client_secret": strings.Repeat("s", 31)},
			"long secret":        {"client_secret": strings.Repeat("s", 129)},
			"scope with a space": {"scopes": []string{"read users"}},
			"empty scope":        {"scopes": []string{""}},
			"65 scopes":          {"scopes": manyScopes(65)},
			"long name":          {"client_name": strings.Repeat("n", 257)},
			"control in name":    {"client_name": "a\x00b"},
			"bad client_id":      {"client_id": "has space"},
			"metadata not obj":   {"trusted_metadata": []int{1}},
		} {
			if r := c.post("/v1/m2m/clients", body); r.status != http.StatusBadRequest {
				t.Errorf("%s: %d %v, want 400", name, r.status, r.body["error_type"])
			}
		}
	}},
	{name: "m2m/update search delete", run: func(t *testing.T, c *client) {
		tag := "tag:" + randomHex(6)
		a, b, x := c.newM2MClient("search", tag, "read"), c.newM2MClient("search", tag), c.newM2MClient("search", tag)
		got := c.m2mPut(a.id, obj{"client_name": "renamed-" + a.id, "scopes": []string{tag, "write"}, "trusted_metadata": obj{"v": 2}})
		if got["client_name"] != "renamed-"+a.id || got["status"] != "active" || field(got, "trusted_metadata", "v") != float64(2) ||
			got["client_secret_last_four"] != lastFour(a.secret) {
			t.Errorf("update: %v", got)
		}
		if s, _ := got["scopes"].([]any); len(s) != 2 || s[1] != "write" {
			t.Errorf("update scopes %v", got["scopes"])
		}
		if got := c.m2mPut(b.id, obj{"status": "inactive"}); got["status"] != "inactive" || got["client_name"] != b.body["client_name"] {
			t.Errorf("deactivate: %v", got)
		}
		if r := c.do(http.MethodPut, "/v1/m2m/clients/"+b.id, obj{"status": "paused"}, withAuth); r.status != http.StatusBadRequest {
			t.Errorf("status paused: %d", r.status)
		}

		search := func(q obj) obj {
			t.Helper()
			return c.ok(c.post("/v1/m2m/clients/search", q))
		}
		ids := func(body obj) []string {
			var out []string
			for _, m := range body["m2m_clients"].([]any) {
				noSecrets(t, "search", m.(obj))
				out = append(out, m.(obj)["client_id"].(string))
			}
			slices.Sort(out)
			return out
		}
		operand := func(name string, values ...string) obj { return obj{"filter_name": name, "filter_value": values} }
		all := search(obj{"query": obj{"operator": "AND", "operands": []obj{operand("scopes", tag)}}})
		if got, want := ids(all), slices.Sorted(slices.Values([]string{a.id, b.id, x.id})); !slices.Equal(got, want) {
			t.Errorf("search by scope: %v, want %v", got, want)
		}
		if field(all, "results_metadata", "total") != float64(3) {
			t.Errorf("results_metadata %v", all["results_metadata"])
		}
		inactive := search(obj{"query": obj{"operator": "AND", "operands": []obj{operand("scopes", tag), operand("status", "inactive")}}})
		if got := ids(inactive); !slices.Equal(got, []string{b.id}) {
			t.Errorf("search inactive: %v, want [%s]", got, b.id)
		}
		either := search(obj{"query": obj{"operator": "OR", "operands": []obj{operand("client_id", x.id), operand("client_name", "renamed-"+a.id)}}})
		if got, want := ids(either), slices.Sorted(slices.Values([]string{a.id, x.id})); !slices.Equal(got, want) {
			t.Errorf("search by id or name: %v, want %v", got, want)
		}
		// Pages: two, then the last one.
		q := obj{"limit": 2, "query": obj{"operator": "AND", "operands": []obj{operand("scopes", tag)}}}
		first := search(q)
		cursor, _ := field(first, "results_metadata", "next_cursor").(string)
		if len(ids(first)) != 2 || cursor == "" {
			t.Fatalf("first page: %v", first)
		}
		q["cursor"] = cursor
		second := search(q)
		if rest := ids(second); len(rest) != 1 || slices.Contains(ids(first), rest[0]) {
			t.Errorf("second page %v after %v", rest, ids(first))
		}
		if next, _ := field(second, "results_metadata", "next_cursor").(string); next != "" {
			t.Errorf("the last page has a next_cursor %q", next)
		}
		if r := c.post("/v1/m2m/clients/search", obj{"limit": 1001}); r.status != http.StatusBadRequest {
			t.Errorf("limit 1001: %d", r.status)
		}

		del := c.ok(c.do(http.MethodDelete, "/v1/m2m/clients/"+x.id, nil, withAuth))
		if del["client_id"] != x.id {
			t.Errorf("delete: %v", del)
		}
		for _, r := range []response{
			c.get("/v1/m2m/clients/" + x.id),
			c.do(http.MethodDelete, "/v1/m2m/clients/"+x.id, nil, withAuth),
			c.do(http.MethodPut, "/v1/m2m/clients/"+x.id, obj{"client_name": "ghost"}, withAuth),
		} {
			if r.status != http.StatusNotFound {
				t.Errorf("a deleted client: %d %v, want 404", r.status, r.body["error_type"])
			}
		}
		if r := c.do(http.MethodGet, "/v1/m2m/clients/"+a.id, nil, noAuth); r.status != http.StatusUnauthorized {
			t.Errorf("get without project credentials: %d", r.status)
		}
	}},
	{name: "m2m/token through an OAuth 2 client", run: func(t *testing.T, c *client) {
		m := c.newM2MClient("oauth2", "read:users", "write:users", "admin")
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			tok, err := c.clientCredentials(m.id, m.secret, style, "read:users", "admin")
			if err != nil {
				t.Fatalf("auth style %d: %v", style, err)
			}
			if tok.Type() != "Bearer" || tok.Expiry.IsZero() {
				t.Errorf("token type %q expiry %v", tok.Type(), tok.Expiry)
			}
			c.checkM2MJWT(tok.AccessToken, m.id, "read:users", "admin")
			all, err := c.clientCredentials(m.id, m.secret, style)
			if err != nil {
				t.Fatal(err)
			}
			c.checkM2MJWT(all.AccessToken, m.id, "read:users", "write:users", "admin")
			// A scope the client lacks, through the library: invalid_scope.
			_, err = c.clientCredentials(m.id, m.secret, style, "read:users", "delete:users")
			if re := (*oauth2.RetrieveError)(nil); !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
				t.Errorf("a scope the client lacks: %v, want invalid_scope", err)
			}
			// A wrong secret: invalid_client.
			_, err = c.clientCredentials(m.id, m.secret+"x", style)
			if re := (*oauth2.RetrieveError)(nil); !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
				t.Errorf("a wrong secret: %v, want 401 invalid_client", err)
			}
		}
	}},
	{name: "m2m/token bodies and credentials", run: func(t *testing.T, c *client) {
		m := c.newM2MClient("bodies", "a", "b")
		// Form body with the credentials; JSON body; Basic with a form body.
		c.checkM2MJWT(c.tokenOK(c.tokenCall(credentialsForm(m.id, m.secret, "a"))), m.id, "a")
		c.checkM2MJWT(c.tokenOK(c.tokenCall(obj{"grant_type": "client_credentials", "client_id": m.id, "client_secret": m.secret, "scope": "b a"})), m.id, "a", "b")
		c.checkM2MJWT(c.tokenOK(c.tokenCall(url.Values{"grant_type": {"client_credentials"}, "scope": {"b"}}, m.id, m.secret)), m.id, "b")
		c.checkM2MJWT(c.tokenOK(c.tokenCall(obj{"grant_type": "client_credentials"}, m.id, m.secret)), m.id, "a", "b")

		wrong := c.tokenCall(url.Values{"grant_type": {"client_credentials"}}, m.id, swapLast(m.secret))
		c.tokenFails(wrong, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(wrong.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("invalid_client with Basic: WWW-Authenticate %q", wrong.header.Get("WWW-Authenticate"))
		}
		c.tokenFails(c.tokenCall(credentialsForm(m.id, swapFirst(m.secret), "")), http.StatusUnauthorized, "invalid_client")
		c.tokenFails(c.tokenCall(credentialsForm(m.id, "", "")), http.StatusUnauthorized, "invalid_client")
		c.tokenFails(c.tokenCall(credentialsForm("m2m-client-test-00000000-0000-4000-8000-000000000000", m.secret, "")), http.StatusUnauthorized, "invalid_client")
		c.tokenFails(c.tokenCall(url.Values{"grant_type": {"client_credentials"}}), http.StatusUnauthorized, "invalid_client")
		// The project's own credentials are not a client's.
		c.tokenFails(c.tokenCall(url.Values{"grant_type": {"client_credentials"}}, c.tg.ProjectID, c.tg.Secret), http.StatusUnauthorized, "invalid_client")
		// Another client's secret.
		other := c.newM2MClient("bodies-other", "a")
		c.tokenFails(c.tokenCall(credentialsForm(m.id, other.secret, "")), http.StatusUnauthorized, "invalid_client")

		noGrant := credentialsForm(m.id, m.secret, "")
		noGrant.Del("grant_type")
		c.tokenFails(c.tokenCall(noGrant), http.StatusBadRequest, "invalid_request")
		password := credentialsForm(m.id, m.secret, "")
		password.Set("grant_type", "password")
		c.tokenFails(c.tokenCall(password), http.StatusBadRequest, "unsupported_grant_type")
		c.tokenFails(c.tokenCall(credentialsForm(m.id, m.secret, "a c")), http.StatusBadRequest, "invalid_scope")
		c.tokenFails(c.tokenCall(obj{"grant_type": "client_credentials", "client_id": m.id, "client_secret": m.secret, "scope": "z"}), http.StatusBadRequest, "invalid_scope")
	}},
	{name: "m2m/inactive and deleted clients get no token", run: func(t *testing.T, c *client) {
		m := c.newM2MClient("inactive", "read")
		c.tokenOK(c.tokenCall(credentialsForm(m.id, m.secret, "")))
		c.m2mPut(m.id, obj{"status": "inactive"})
		c.tokenFails(c.tokenCall(credentialsForm(m.id, m.secret, "")), http.StatusUnauthorized, "invalid_client")
		c.m2mPut(m.id, obj{"status": "active"})
		c.tokenOK(c.tokenCall(credentialsForm(m.id, m.secret, "")))
		c.ok(c.do(http.MethodDelete, "/v1/m2m/clients/"+m.id, nil, withAuth))
		c.tokenFails(c.tokenCall(credentialsForm(m.id, m.secret, "")), http.StatusUnauthorized, "invalid_client")
		// Scopes narrowed by an update bound the next token.
		n := c.newM2MClient("narrowed", "read", "write")
		c.m2mPut(n.id, obj{"scopes": []string{"read"}})
		c.tokenFails(c.tokenCall(credentialsForm(n.id, n.secret, "write")), http.StatusBadRequest, "invalid_scope")
		c.checkM2MJWT(c.tokenOK(c.tokenCall(credentialsForm(n.id, n.secret, ""))), n.id, "read")
	}},
	{name: "m2m/secret rotation", run: func(t *testing.T, c *client) {
		m := c.newM2MClient("rotate", "read")
		mint := func(secret string) tokenAnswer { return c.tokenCall(credentialsForm(m.id, secret, "")) }
		started := c.m2mRotate(m.id, "start")
		next := str(t, started, "next_client_secret")
		if next == m.secret || started["next_client_secret_last_four"] != lastFour(next) || started["client_secret_last_four"] != lastFour(m.secret) {
			t.Errorf("rotate/start: %v", started)
		}
		if _, has := started["client_secret"]; has {
			t.Errorf("rotate/start shows the current secret again")
		}
		if got := c.m2mGet(m.id); got["next_client_secret_last_four"] != lastFour(next) {
			t.Errorf("get during a rotation: next_client_secret_last_four %v", got["next_client_secret_last_four"])
		}
		// During the rotation both secrets mint.
		c.tokenOK(mint(m.secret))
		c.tokenOK(mint(next))
		cancelled := c.m2mRotate(m.id, "cancel")
		noSecrets(t, "rotate/cancel", cancelled)
		if cancelled["next_client_secret_last_four"] != nil || cancelled["client_secret_last_four"] != lastFour(m.secret) {
			t.Errorf("rotate/cancel: %v", cancelled)
		}
		c.tokenFails(mint(next), http.StatusUnauthorized, "invalid_client")
		c.tokenOK(mint(m.secret))
		if r := c.post("/v1/m2m/clients/"+m.id+"/secrets/rotate", obj{}); r.status < 400 || r.status >= 500 {
			t.Errorf("rotate without a next secret: %d, want a 4xx", r.status)
		}

		next = str(t, c.m2mRotate(m.id, "start"), "next_client_secret")
		done := c.m2mRotate(m.id, "")
		noSecrets(t, "rotate", done)
		if done["client_secret_last_four"] != lastFour(next) || done["next_client_secret_last_four"] != nil {
			t.Errorf("rotate: %v", done)
		}
		c.tokenFails(mint(m.secret), http.StatusUnauthorized, "invalid_client")
		c.checkM2MJWT(c.tokenOK(mint(next)), m.id, "read")
		if r := c.post("/v1/m2m/clients/m2m-client-test-00000000-0000-4000-8000-000000000000/secrets/rotate/start", obj{}); r.status != http.StatusNotFound {
			t.Errorf("rotate/start of an unknown client: %d", r.status)
		}
	}},
	{name: "m2m/token is not a session", run: func(t *testing.T, c *client) {
		m := c.newM2MClient("notsession", "read")
		tok := c.tokenOK(c.tokenCall(credentialsForm(m.id, m.secret, "")))
		for _, key := range []string{"session_jwt", "session_token"} {
			r := c.post("/v1/sessions/authenticate", obj{key: tok})
			if r.status == http.StatusOK {
				t.Fatalf("sessions/authenticate accepted an M2M token as %s: %v", key, r.body)
			}
			if r.status != http.StatusBadRequest && r.status != http.StatusNotFound && r.status != http.StatusUnauthorized {
				t.Errorf("sessions/authenticate of an M2M token as %s: %d %v", key, r.status, r.body["error_type"])
			}
		}
		if r := c.post("/v1/sessions/revoke", obj{"session_jwt": tok}); r.status == http.StatusOK {
			t.Errorf("sessions/revoke accepted an M2M token as a session_jwt")
		}
	}},
	{name: "m2m/wrong secrets are rate limited per client", run: func(t *testing.T, c *client) {
		m, bystander := c.newM2MClient("ratelimit", "read"), c.newM2MClient("ratelimit-other", "read")
		limited := false
		for range 30 {
			a := c.tokenCall(credentialsForm(m.id, "wrong-"+m.secret, ""))
			if a.status == http.StatusTooManyRequests {
				limited = true
				break
			}
			c.tokenFails(a, http.StatusUnauthorized, "invalid_client")
		}
		if !limited {
			t.Fatalf("30 wrong secrets for one client and no 429")
		}
		c.tokenOK(c.tokenCall(credentialsForm(bystander.id, bystander.secret, "")))
		if c.tg.Advance == nil {
			return
		}
		c.advance(2 * time.Minute)
		c.tokenOK(c.tokenCall(credentialsForm(m.id, m.secret, "")))
	}},
	{name: "m2m/feed has deactivations, deletions and finished rotations", run: func(t *testing.T, c *client) {
		cursor := str(t, c.feed("", 0), "cursor")
		deactivated, deleted, rotated := c.newM2MClient("feed-off", "r"), c.newM2MClient("feed-del", "r"), c.newM2MClient("feed-rot", "r")
		cancelled, renamed := c.newM2MClient("feed-cancel", "r"), c.newM2MClient("feed-rename", "r")
		// A token minted before each event: the event's revoked_at is not
		// before its iat, so a verifier refuses it.
		iats := map[string]float64{}
		for _, m := range []m2mClient{deactivated, deleted, rotated} {
			iats[m.id], _ = c.checkM2MJWT(c.tokenOK(c.tokenCall(credentialsForm(m.id, m.secret, ""))), m.id, "r")["iat"].(float64)
		}
		c.m2mPut(deactivated.id, obj{"status": "inactive"})
		c.m2mPut(deactivated.id, obj{"status": "inactive"}) // no second event
		c.ok(c.do(http.MethodDelete, "/v1/m2m/clients/"+deleted.id, nil, withAuth))
		c.m2mRotate(rotated.id, "start")
		c.m2mRotate(rotated.id, "")
		c.m2mRotate(cancelled.id, "start")
		c.m2mRotate(cancelled.id, "cancel")
		c.m2mPut(renamed.id, obj{"client_name": "renamed-" + renamed.id, "scopes": []string{"r", "w"}})

		got := c.feed(cursor, 0)
		for _, m := range []m2mClient{deactivated, deleted, rotated} {
			evs := clientEvents(got, m.id)
			if len(evs) != 1 {
				t.Errorf("client %s: %d feed events, want 1: %v", m.id, len(evs), got["events"])
				continue
			}
			ev := evs[0]
			if _, has := ev["session_id"]; has {
				t.Errorf("a client event carries session_id: %v", ev)
			}
			if _, has := ev["user_id"]; has {
				t.Errorf("a client event carries user_id: %v", ev)
			}
			if at := parseTime(t, ev["revoked_at"]).Unix(); float64(at) < iats[m.id] {
				t.Errorf("client %s: revoked_at %d before the iat %v of a token minted before it", m.id, at, iats[m.id])
			}
		}
		for _, m := range []m2mClient{cancelled, renamed} {
			if evs := clientEvents(got, m.id); len(evs) != 0 {
				t.Errorf("client %s: no revocation but feed events %v", m.id, evs)
			}
		}
		// Reactivation is no event, and minting resumes.
		c.m2mPut(deactivated.id, obj{"status": "active"})
		if after := c.feed(str(t, got, "cursor"), 0); len(clientEvents(after, deactivated.id)) != 0 {
			t.Errorf("reactivation appears in the feed: %v", after["events"])
		}
		c.tokenOK(c.tokenCall(credentialsForm(deactivated.id, deactivated.secret, "")))
	}},
	{name: "m2m/a waiting feed read wakes on a deactivation", run: func(t *testing.T, c *client) {
		m := c.newM2MClient("feedwait", "r")
		cursor := str(t, c.feed("", 0), "cursor")
		done := make(chan response, 1)
		go func() {
			cc := newClient(t, c.tg)
			req, err := http.NewRequest(http.MethodGet, c.tg.URL+"/v1/sessions/revocations?wait=20&cursor="+cursor, nil)
			if err != nil {
				done <- response{}
				return
			}
			req.SetBasicAuth(c.tg.ProjectID, c.tg.Secret)
			res, err := cc.hc.Do(req)
			if err != nil {
				done <- response{}
				return
			}
			defer res.Body.Close()
			r := response{status: res.StatusCode}
			_ = jsonDecode(res, &r.body)
			done <- r
		}()
		// As for sessions: a read that had not started waiting answers
		// with the event at once; a host that never wakes it answers empty
		// after 20 s.
		time.Sleep(500 * time.Millisecond)
		c.m2mPut(m.id, obj{"status": "inactive"})
		r := <-done
		if r.status != http.StatusOK {
			t.Fatalf("waiting feed read: status %d", r.status)
		}
		if len(clientEvents(r.body, m.id)) != 1 {
			t.Fatalf("the waiting read answered %v, without the client deactivated while it waited", r.body)
		}
	}},
}

// manyScopes returns n distinct scopes.
func manyScopes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "s" + itoa(i)
	}
	return out
}

// swapFirst and swapLast change the first or last character of a secret
// to another one: a character drawn at random may already be the one a
// fixed replacement would put there.
func swapFirst(s string) string { return string(otherChar(s[0])) + s[1:] }
func swapLast(s string) string  { return s[:len(s)-1] + string(otherChar(s[len(s)-1])) }

func otherChar(c byte) byte {
	if c == 'x' {
		return 'y'
	}
	return 'x'
}
