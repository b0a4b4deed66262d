package conformance

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

var keyCases = []testCase{
	{name: "keys/rotation keeps sessions signed in", run: func(t *testing.T, c *client) {
		if c.tg.RotateKeys == nil {
			t.Skip("host cannot rotate its keys from a test")
		}
		_, login := c.login("rotation", 180)
		old := str(t, login, "session_jwt")
		oldKid := jwtKid(t, old)
		c.tg.RotateKeys(t)
		// The retired key stays published while JWTs it signed are
		// unexpired, and such a JWT still authenticates, answered with a
		// JWT of the new key.
		keys := c.jwks()
		if keys[oldKid] == nil || len(keys) < 2 {
			t.Fatalf("after rotation the JWKS lists %d keys, without the retired %s", len(keys), oldKid)
		}
		fresh := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": old}))
		newKid := jwtKid(t, str(t, fresh, "session_jwt"))
		if newKid == oldKid || keys[newKid] == nil {
			t.Fatalf("fresh JWT signed by %s (retired %s; published %d keys)", newKid, oldKid, len(keys))
		}
		checkSessionJWT(t, c.verifyJWT(str(t, fresh, "session_jwt")), fresh["session"].(obj))
		if c.tg.Advance == nil {
			return
		}
		// While an M2M access token it signed (an hour) may be unexpired
		// to a verifier, the retired key stays published; once every JWT
		// it signed has expired (and a verifier's largest leeway has
		// passed), it leaves the JWKS, but the expired JWT of the live
		// session still authenticates.
		c.advance(11 * time.Minute)
		if keys := c.jwks(); keys[oldKid] == nil {
			t.Fatalf("11 minutes after rotation the JWKS dropped the retired key, which may have signed an M2M token of an hour")
		}
		c.advance(55 * time.Minute)
		if keys := c.jwks(); keys[oldKid] != nil || keys[newKid] == nil {
			t.Fatalf("66 minutes after rotation the JWKS still lists the retired key (or lost the new one): %d keys", len(keys))
		}
		later := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": old}))
		if jwtKid(t, str(t, later, "session_jwt")) != newKid || field(later, "session", "session_id") != field(login, "session", "session_id") {
			t.Fatalf("expired JWT of the retired key: %v", later)
		}
		c.ok(c.post("/v1/sessions/revoke", obj{"session_jwt": old}))
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": old}), http.StatusNotFound, "session_not_found")
	}},
}

// jwtKid returns the kid of a JWT's header.
func jwtKid(t *testing.T, tok string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h struct {
		Kid string `json:"kid"`
	}
	if err != nil || json.Unmarshal(raw, &h) != nil || h.Kid == "" {
		t.Fatalf("JWT header %q has no kid", raw)
	}
	return h.Kid
}
