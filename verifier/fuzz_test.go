package verifier

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseHeader checks that the header parser never panics and accepts
// only what encoding/json reads as an RS256 JWT header with a kid.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"RS256","kid":"jwk-test-1","typ":"JWT"}`,
		`{"alg":"RS256","kid":"k","typ":"jwt","x":[1,{"y":null}]}`,
		`{"alg":"none","kid":"k","typ":"JWT"}`,
		`{"alg":"RS256","kid":"k","typ":"JWT","crit":["b64"]}`,
		`{"alg":"RS256","kid":"\u006b","typ":"JWT"}`,
		`{"alg":"RS256","alg":"HS256","kid":"k","typ":"JWT"}`,
		`{"alg":"RS256","kid":"k","typ":"JWT","x":{"a":1,"a":2}}`,
		`{"ALG":"RS256","KID":"k","TYP":"JWT"}`,
		` { "alg" : "RS256" , "kid" : "k" , "typ" : "JWT" } `,
		`{"alg":"RS256","kid":"k","typ":"JWT",}`,
		`[]`, `{`, `{"alg"}`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		kid, err := parseHeader(base64.RawURLEncoding.EncodeToString([]byte(header)))
		if err != nil {
			if kid != "" {
				t.Fatalf("kid %q with error %v", kid, err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(header), &m); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", header, err)
		}
		_, crit := m["crit"]
		if m["alg"] != "RS256" || m["kid"] != kid || kid == "" || m["typ"] != "JWT" || crit {
			t.Fatalf("accepted %q as kid %q; encoding/json reads %v", header, kid, m)
		}
		if hasDuplicateNames(header) {
			t.Fatalf("accepted %q, which repeats a member name", header)
		}
	})
}

// FuzzReadClaims checks that the claims parser never panics and that what
// it accepts, encoding/json reads the same way.
func FuzzReadClaims(f *testing.F) {
	valid, err := json.Marshal(claimsAt(time.Unix(1745307712, 0)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(valid))
	f.Add(strings.Replace(string(valid), `"iss"`, `"\u0069ss"`, 1))
	f.Add(strings.Replace(string(valid), `"exp":1745308012`, `"exp":1.745308012e9`, 1))
	f.Add(strings.Replace(string(valid), `"roles":["stytch_user"]`, `"roles":null`, 1))
	f.Add(`{"aud":"` + testProject + `","iss":"stytch.com/` + testProject + `","sub":"u","exp":1,"iat":0,"https://stytch.com/session":{"id":"s"},"x":{"y":[1,2,{"z":"é"}]}}`)
	f.Add(`{}`)
	f.Add(`{"exp":-0.0e+5}`)
	v := &Verifier{cfg: settings{projectID: testProject, issuer: "stytch.com/" + testProject}}
	f.Fuzz(func(t *testing.T, payload string) {
		var s Session
		c, err := v.readClaims(payload, &s)
		if errors.Is(err, ErrMalformed) {
			return
		}
		var m map[string]any
		if jerr := json.Unmarshal([]byte(payload), &m); jerr != nil {
			t.Fatalf("parsed %q (err %v), which encoding/json rejects: %v", payload, err, jerr)
		}
		if hasDuplicateNames(payload) {
			t.Fatalf("parsed %q (err %v), which repeats a member name", payload, err)
		}
		if err != nil {
			return
		}
		sess, _ := m["https://stytch.com/session"].(map[string]any)
		if m["iss"] != c.iss || m["sub"] != s.UserID || sess == nil || sess["id"] != s.SessionID {
			t.Fatalf("read %q as iss %q sub %q session %q; encoding/json reads %v", payload, c.iss, s.UserID, s.SessionID, m)
		}
		for k, want := range s.CustomClaims {
			got, _ := json.Marshal(m[k])
			w, _ := json.Marshal(want)
			if string(got) != string(w) {
				t.Fatalf("custom claim %q = %s, encoding/json reads %s", k, w, got)
			}
		}
	})
}

// FuzzVerify feeds whole tokens to Verify: it must never panic, and
// nothing but the seed signed with the real key may pass.
func FuzzVerify(f *testing.F) {
	k := testKeys()[0]
	srv := newJWKSServer(f, k)
	clk := newClock()
	good := mint(f, k, claimsAt(clk.Now()))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("a.b.c")
	f.Add("..")
	f.Add(strings.Replace(good, ".", "..", 1))
	v := newTestVerifier(f, srv, clk, func(c *Config) { c.KeyWait = time.Millisecond })
	if err := v.Refresh(f.Context()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		s, err := v.Verify(t.Context(), tok)
		if (err == nil) != (tok == good) || (err == nil) != (s != nil) {
			t.Fatalf("Verify(%q) = %v, %v", tok, s, err)
		}
	})
}

// hasDuplicateNames reports whether the JSON text data, read by
// encoding/json's tokenizer, has an object that repeats a member name.
// It is the oracle for the scanner's refusal of repeated names.
func hasDuplicateNames(data string) bool {
	type frame struct {
		obj, wantKey bool
		seen         map[string]bool
	}
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(strings.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		n := len(stack)
		if n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			k, _ := tok.(string)
			if stack[n-1].seen[k] {
				return true
			}
			stack[n-1].seen[k] = true
			stack[n-1].wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, wantKey: true, seen: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:n-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func TestHasDuplicateNames(t *testing.T) {
	tests := []struct {
		json string
		want bool
	}{
		{json: `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, want: false},
		{json: `{"a":1,"a":2}`, want: true},
		{json: `{"a":{"b":[1,{"c":1,"c":2}]}}`, want: true},
		{json: `{"\u0061":1,"a":2}`, want: true},
		{json: `{"a":[],"b":{},"a":null}`, want: true},
		{json: `[{"a":1},{"a":1}]`, want: false},
	}
	for _, tt := range tests {
		if got := hasDuplicateNames(tt.json); got != tt.want {
			t.Errorf("hasDuplicateNames(%s) = %v, want %v", tt.json, got, tt.want)
		}
	}
}

// FuzzReadAuthenticateResponse checks that the reader of the edge's answer
// never panics and that what it accepts, encoding/json reads the same way
// (names matched exactly, none repeated).
func FuzzReadAuthenticateResponse(f *testing.F) {
	f.Add(`{"status_code":200,"session":{"session_id":"s","user_id":"u","custom_claims":{"n":1e400,"m":[1,{"k":null}]},` +
		`"authentication_factors":[{"type":"magic_link","email_factor":{"email_id":"e","email_address":"a@b"}}],"roles":["r"]},"session_jwt":"j"}`)
	f.Add(`{"SESSION":{"session_id":"s"},"session":null}`)
	f.Add(`{"session":{"session_id":"s","session_id":"t"}}`)
	f.Add(`{"status_code":404,"error_type":"session_not_found"}`)
	f.Fuzz(func(t *testing.T, body string) {
		if re, ok := readRemoteError(body); ok && (re == nil || hasDuplicateNames(body)) {
			t.Fatalf("error body %q read as %+v", body, re)
		}
		s, jwt, ok := readAuthenticateResponse(body)
		if !ok {
			if s != nil || jwt != "" {
				t.Fatalf("rejected %q but returned %+v, %q", body, s, jwt)
			}
			return
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", body, err)
		}
		if hasDuplicateNames(body) {
			t.Fatalf("accepted %q, which repeats a member name", body)
		}
		if got, _ := m["session_jwt"].(string); got != jwt {
			t.Fatalf("session_jwt %q, encoding/json reads %q", jwt, got)
		}
		sess, _ := m["session"].(map[string]any)
		if (sess == nil) != (s == nil) {
			t.Fatalf("session %+v, encoding/json reads %v", s, m["session"])
		}
		if s != nil {
			id, _ := sess["session_id"].(string)
			user, _ := sess["user_id"].(string)
			if id != s.SessionID || user != s.UserID {
				t.Fatalf("session %q user %q, encoding/json reads %v", s.SessionID, s.UserID, sess)
			}
		}
	})
}

// FuzzReadFeedAnswer checks that the revocation feed reader never panics
// and accepts only what encoding/json reads as a feed answer with a
// cursor and events that each name a session and a time.
func FuzzReadFeedAnswer(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"session_id":"session-test-1","user_id":"u","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"7","reset":false,"has_more":true,"status_code":200,"request_id":"r"}`,
		`{"events":[],"cursor":"0","reset":true,"has_more":false}`,
		`{"events":[],"cursor":"1","cursor":"2"}`,
		`{"events":[{"session_id":"a","session_id":"b","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`,
		`{"events":[{"session_id":"\u0061","revoked_at":"2026-01-02T03:04:05.5+02:00"}],"cursor":"1"}`,
		`{"Events":[],"cursor":"1"}`, `{"events":null,"cursor":"1"}`, `[]`, `{`, "",
		`{"events":[{"revoked_at":"2026-01-02T03:04:05Z","client_id":"m2m-client-test-1"}],"cursor":"8","reset":false,"has_more":false}`,
		`{"events":[{"session_id":"s","client_id":"c","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`,
		`{"events":[{"client_id":"c","client_id":"d","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`,
		`{"events":[{"client_id":"","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		a, ok := readFeedAnswer(body)
		if !ok {
			return
		}
		// Names are exact here, so the oracle reads members by exact name.
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &top); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", body, err)
		}
		var events []map[string]json.RawMessage
		var cursor string
		var reset, hasMore bool
		for name, dst := range map[string]any{"events": &events, "cursor": &cursor, "reset": &reset, "has_more": &hasMore} {
			if raw, ok := top[name]; ok {
				if err := json.Unmarshal(raw, dst); err != nil {
					t.Fatalf("%q: %s: %v", body, name, err)
				}
			}
		}
		if cursor != a.cursor || reset != a.reset || hasMore != a.hasMore || len(events) != len(a.events) || a.cursor == "" {
			t.Fatalf("%q: read %+v, encoding/json %q %v %v %d events", body, *a, cursor, reset, hasMore, len(events))
		}
		for i, ev := range a.events {
			var session, client string
			var at time.Time
			_, hasSession := events[i]["session_id"]
			_, hasClient := events[i]["client_id"]
			if hasSession && json.Unmarshal(events[i]["session_id"], &session) != nil ||
				hasClient && json.Unmarshal(events[i]["client_id"], &client) != nil ||
				json.Unmarshal(events[i]["revoked_at"], &at) != nil ||
				(session == "") == (client == "") || ev.sessionID != session || ev.clientID != client || ev.revokedAt != at.Unix() {
				t.Fatalf("%q: event %d read %+v, encoding/json %q %q %v", body, i, ev, session, client, at)
			}
		}
	})
}

// FuzzReadM2MClaims checks that the M2M claims parser never panics, that
// what it accepts encoding/json reads the same way, and that it never
// accepts a session JWT's claims.
func FuzzReadM2MClaims(f *testing.F) {
	valid, err := json.Marshal(m2mClaimsAt(time.Unix(1745307712, 0)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(valid))
	f.Add(strings.Replace(string(valid), `"scope"`, `"\u0073cope"`, 1))
	f.Add(strings.Replace(string(valid), `"scope":"read:users write:books audit"`, `"scope":"  read:*  "`, 1))
	f.Add(withMembers(string(valid), `"scope":"admin"`))
	f.Add(withMembers(string(valid), `"https://stytch.com/session":{"id":"s"}`))
	f.Add(withMembers(string(valid), `"tenant":{"a":[1,{"b":null}]}`))
	f.Add(`{"aud":"` + testProject + `","iss":"stytch.com/` + testProject + `","sub":"c","exp":1,"iat":0,"scope":""}`)
	f.Add(`{}`)
	v := &Verifier{cfg: settings{projectID: testProject, issuer: "stytch.com/" + testProject}}
	f.Fuzz(func(t *testing.T, payload string) {
		var m m2mClaims
		_, err := v.readM2MClaims(payload, &m)
		if err != nil {
			return
		}
		var top map[string]any
		if jerr := json.Unmarshal([]byte(payload), &top); jerr != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", payload, jerr)
		}
		if hasDuplicateNames(payload) {
			t.Fatalf("accepted %q, which repeats a member name", payload)
		}
		scope, ok := top["scope"].(string)
		if _, sess := top["https://stytch.com/session"]; sess || !ok || top["sub"] != m.clientID || m.clientID == "" {
			t.Fatalf("accepted %q as client %q; encoding/json reads %v", payload, m.clientID, top)
		}
		if got, want := strings.Join(m.scopes, " "), strings.Join(strings.Fields(scope), " "); got != want {
			t.Fatalf("scopes %q, want %q", got, want)
		}
		for k, want := range m.custom {
			got, _ := json.Marshal(top[k])
			w, _ := json.Marshal(want)
			if string(got) != string(w) || k == "scope" || strings.HasPrefix(k, stytchClaimPrefix) {
				t.Fatalf("custom claim %q = %s, encoding/json reads %s", k, w, got)
			}
		}
	})
}

// FuzzVerifyM2M feeds whole tokens to VerifyM2M: it must never panic, and
// nothing but the seed signed with the real key may pass.
func FuzzVerifyM2M(f *testing.F) {
	k := testKeys()[0]
	srv := newJWKSServer(f, k)
	clk := newClock()
	good := mint(f, k, m2mClaimsAt(clk.Now()))
	f.Add(good)
	f.Add(mint(f, k, claimsAt(clk.Now())))
	f.Add(good[:len(good)-1])
	f.Add("a.b.c")
	v := newTestVerifier(f, srv, clk, func(c *Config) { c.KeyWait = time.Millisecond })
	if err := v.Refresh(f.Context()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		m, err := v.VerifyM2M(t.Context(), tok, "read:users")
		if (err == nil) != (tok == good) || (err == nil) != (m != nil) {
			t.Fatalf("VerifyM2M(%q) = %v, %v", tok, m, err)
		}
	})
}
