package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var accountCases = []testCase{
	{name: "users/update name and merge metadata", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("update")
		put := func(body any) response { return c.do(http.MethodPut, "/v1/users/"+userID, body, withAuth) }
		got := c.ok(put(obj{"name": obj{"first_name": "Grace"}, "trusted_metadata": obj{"plan": "pro", "n": 1, "nested": obj{"a": 1, "b": 2}},
			"untrusted_metadata": obj{"theme": "dark"}}))
		user := got["user"].(obj)
		if got["user_id"] != userID || field(user, "name", "first_name") != "Grace" || field(user, "name", "last_name") != "Lovelace" {
			t.Fatalf("after the first update: %v", user["name"])
		}
		if got["emails"] == nil {
			t.Errorf("answer lacks emails: %v", got)
		}
		// Top level merges: given keys overwrite, null deletes, nested objects are replaced whole.
		got = c.ok(put(obj{"trusted_metadata": obj{"n": nil, "nested": obj{"c": 3}, "extra": true}}))
		tm := field(got, "user", "trusted_metadata").(obj)
		if tm["plan"] != "pro" || tm["extra"] != true || tm["n"] != nil || len(tm["nested"].(obj)) != 1 || field(tm, "nested", "c") != 3.0 {
			t.Fatalf("trusted_metadata after merge: %v", tm)
		}
		if field(got, "user", "untrusted_metadata", "theme") != "dark" {
			t.Errorf("untrusted_metadata lost: %v", field(got, "user", "untrusted_metadata"))
		}
		stored := c.ok(c.get("/v1/users/" + userID))
		if field(stored, "trusted_metadata", "plan") != "pro" || field(stored, "name", "first_name") != "Grace" {
			t.Errorf("update not stored: %v", stored)
		}
		many := obj{}
		for i := range 21 {
			many[fmt.Sprintf("k%d", i)] = i
		}
		c.fails(put(obj{"untrusted_metadata": many}), http.StatusBadRequest, "invalid_metadata")
		c.fails(put(obj{"untrusted_metadata": obj{"big": strings.Repeat("x", 4100)}}), http.StatusBadRequest, "metadata_too_large")
		c.fails(put(obj{"trusted_metadata": []int{1}}), http.StatusBadRequest, "invalid_metadata")
		c.fails(put(`{"trusted_metadata":{"a":1,"a":2}}`), http.StatusBadRequest, "invalid_metadata")
		c.fails(c.do(http.MethodPut, "/v1/users/user-test-00000000-0000-4000-8000-000000000000", obj{"name": obj{"first_name": "x"}}, withAuth),
			http.StatusNotFound, "user_not_found")
		// The refused updates changed nothing.
		if after := c.ok(c.get("/v1/users/" + userID)); len(after["untrusted_metadata"].(obj)) != 1 {
			t.Errorf("refused update stored: %v", after["untrusted_metadata"])
		}
	}},
	{name: "users/search finds a full name as it is written", run: func(t *testing.T, c *client) {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		first, last := "Jo"+hex.EncodeToString(b), "Smith"
		plain := str(t, c.ok(c.post("/v1/users", obj{"email": uniqueEmail("jo"), "name": obj{"first_name": first, "last_name": last}})), "user_id")
		accented := str(t, c.ok(c.post("/v1/users", obj{"email": uniqueEmail("emile"),
			"name": obj{"first_name": "Émile" + first, "middle_name": "Ana", "last_name": last}})), "user_id")
		found := func(name string) []string {
			body := obj{"limit": 100, "query": obj{"operator": "AND", "operands": []obj{{"filter_name": "full_name_fuzzy", "filter_value": name}}}}
			var ids []string
			for _, u := range c.ok(c.post("/v1/users/search", body))["results"].([]any) {
				ids = append(ids, u.(obj)["user_id"].(string))
			}
			return ids
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{first + " " + last, []string{plain}},                // no middle name: one space between
			{strings.ToUpper(first) + " SMITH", []string{plain}}, // A to Z in any case
			{"Émile" + first + " Ana Smith", []string{accented}}, // beyond A to Z as written
		} {
			if got := found(tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("full_name_fuzzy %q: %v, want %v", tc.query, got, tc.want)
			}
		}
	}},
	{name: "users/search filters and pages", run: func(t *testing.T, c *client) {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		tag := "srch" + hex.EncodeToString(b)
		const n = 240
		ids := map[string]bool{}
		emails := map[string]string{} // user id → email
		var pendingID string
		for i := range n {
			email := fmt.Sprintf("%s-%03d@example.com", tag, i)
			id := str(t, c.ok(c.post("/v1/users", obj{"email": email})), "user_id")
			ids[id], emails[id] = true, email
			if i == 7 {
				pendingID = id
			}
		}
		query := func(limit int, cursor string, operands ...obj) obj {
			body := obj{"limit": limit, "query": obj{"operator": "AND", "operands": append([]obj{{"filter_name": "email_address_fuzzy", "filter_value": tag}}, operands...)}}
			if cursor != "" {
				body["cursor"] = cursor
			}
			return c.ok(c.post("/v1/users/search", body))
		}
		first := query(1000, "")
		if total := field(first, "results_metadata", "total"); total != float64(n) || len(first["results"].([]any)) != n {
			t.Fatalf("all: total %v, %d results", total, len(first["results"].([]any)))
		}
		// Pages of 50 while users are created and deleted between pages:
		// every user there from start to end appears exactly once.
		seen := map[string]int{}
		var deleted []string
		gone := map[string]bool{}
		cursor, pages := "", 0
		for {
			page := query(50, cursor)
			for _, r := range page["results"].([]any) {
				seen[str(t, r.(obj), "user_id")]++
			}
			pages++
			cursor, _ = field(page, "results_metadata", "next_cursor").(string)
			if cursor == "" || pages > 20 {
				break
			}
			c.ok(c.post("/v1/users", obj{"email": fmt.Sprintf("%s-new%d@example.com", tag, pages)}))
			// Delete one user not reached yet.
			for id := range ids {
				if seen[id] == 0 && !gone[id] {
					c.ok(c.do(http.MethodDelete, "/v1/users/"+id, nil, withAuth))
					deleted, gone[id] = append(deleted, id), true
					break
				}
			}
		}
		for _, id := range deleted {
			delete(ids, id)
		}
		for id := range ids {
			if seen[id] != 1 {
				t.Errorf("user %s seen %d times across the pages", id, seen[id])
			}
		}
		for id, k := range seen {
			if k > 1 {
				t.Errorf("user %s seen %d times", id, k)
			}
		}
		if pages < 5 {
			t.Errorf("%d pages of 50 for %d users", pages, n)
		}
		// Filters, on a user the scan did not delete.
		var kept string
		for id := range ids {
			kept = id
			break
		}
		one := query(10, "", obj{"filter_name": "email_address", "filter_value": []string{emails[kept]}})
		if r := one["results"].([]any); len(r) != 1 || field(r[0].(obj), "user_id") != kept {
			t.Fatalf("email_address filter for %s: %v", emails[kept], one["results"])
		}
		if _, ok := ids[pendingID]; ok {
			byID := query(10, "", obj{"filter_name": "user_id", "filter_value": []string{pendingID}})
			if r := byID["results"].([]any); len(r) != 1 || field(r[0].(obj), "user_id") != pendingID {
				t.Fatalf("user_id filter: %v", byID["results"])
			}
		}
		none := query(10, "", obj{"filter_name": "status", "filter_value": "pending"})
		if r := none["results"].([]any); len(r) != 0 {
			t.Errorf("status pending matched %d active users", len(r))
		}
		between := query(1000, "", obj{"filter_name": "created_at_between", "filter_value": obj{"greater_than": "2000-01-01T00:00:00Z", "less_than": "2999-01-01T00:00:00Z"}})
		if field(between, "results_metadata", "total") != field(query(1000, ""), "results_metadata", "total") {
			t.Errorf("created_at_between over all time: %v", field(between, "results_metadata", "total"))
		}
		for _, bad := range []obj{
			{"query": obj{"operator": "AND", "operands": []obj{{"filter_name": "favourite_colour", "filter_value": "blue"}}}},
			{"query": obj{"operator": "XOR", "operands": []obj{{"filter_name": "status", "filter_value": "active"}}}},
			{"query": obj{"operator": "AND", "operands": []obj{{"filter_name": "user_id", "filter_value": "not-a-list"}}}},
			{"limit": 1001},
			{"cursor": "not a cursor"},
		} {
			c.fails(c.post("/v1/users/search", bad), http.StatusBadRequest, "invalid_search_query")
		}
	}},
	{name: "passwords/delete", run: func(t *testing.T, c *client) {
		userID, email, pw := c.passwordUser("pwdelete")
		user := c.ok(c.get("/v1/users/" + userID))
		pid := str(t, user["password"].(obj), "password_id")
		got := c.ok(c.do(http.MethodDelete, "/v1/users/passwords/"+pid, nil, withAuth))
		if got["user_id"] != userID || field(got, "user", "password") != nil {
			t.Fatalf("delete password: %v", got)
		}
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}), http.StatusUnauthorized, "unauthorized_credentials")
		c.fails(c.do(http.MethodDelete, "/v1/users/passwords/"+pid, nil, withAuth), http.StatusNotFound, "password_not_found")
		c.fails(c.do(http.MethodDelete, "/v1/users/passwords/nope", nil, withAuth), http.StatusBadRequest, "invalid_password_id")
	}},
	{name: "passwords/existing password reset", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("pwexisting")
		old := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		newPW := strongPassword()
		c.fails(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": "wrong-" + pw, "new_password": newPW}),
			http.StatusUnauthorized, "unauthorized_credentials")
		c.fails(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": "password"}),
			http.StatusBadRequest, "weak_password")
		got := c.ok(c.post("/v1/passwords/existing_password/reset", obj{"email": email, "existing_password": pw, "new_password": newPW,
			"session_duration_minutes": 30}))
		if field(got, "session", "session_id") == nil {
			t.Fatalf("reset: %v", got)
		}
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, old, "session_token")}), http.StatusNotFound, "session_not_found")
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, got, "session_token")}))
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": newPW}))
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}), http.StatusUnauthorized, "unauthorized_credentials")
	}},
	{name: "passwords/session reset", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("pwsession")
		a := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		b := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		newPW := strongPassword()
		c.fails(c.post("/v1/passwords/session/reset", obj{"password": newPW}), http.StatusBadRequest, "no_session_arguments")
		got := c.ok(c.post("/v1/passwords/session/reset", obj{"password": newPW, "session_token": str(t, a, "session_token")}))
		if field(got, "session", "session_id") != field(a, "session", "session_id") {
			t.Fatalf("session reset answered another session: %v", got["session"])
		}
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, a, "session_token")}))
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, b, "session_token")}), http.StatusNotFound, "session_not_found")
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": newPW}))
		c.fails(c.post("/v1/passwords/session/reset", obj{"password": strongPassword(), "session_token": str(t, b, "session_token")}),
			http.StatusNotFound, "session_not_found")
	}},
	{name: "passwords/session reset needs a recent password or email factor", run: func(t *testing.T, c *client) {
		if c.tg.Advance == nil {
			t.Skip("needs the host's clock moved past five minutes")
		}
		userID, email, pw := c.passwordUser("pwsession-old")
		s := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		token := str(t, s, "session_token")
		c.advance(6 * time.Minute)
		c.fails(c.post("/v1/passwords/session/reset", obj{"password": strongPassword(), "session_token": token}),
			http.StatusBadRequest, "session_too_old_to_reset_password")
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw})) // unchanged
		// An embeddable link proves no email: still refused. The password
		// again, on the same session, proves the user within the window.
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_token": token}))
		c.fails(c.post("/v1/passwords/session/reset", obj{"password": strongPassword(), "session_token": token}),
			http.StatusBadRequest, "session_too_old_to_reset_password")
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_token": token}))
		c.ok(c.post("/v1/passwords/session/reset", obj{"password": strongPassword(), "session_token": token}))
	}},
}
