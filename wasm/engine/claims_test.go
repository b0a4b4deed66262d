package engine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestClaimsMerge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		have    string
		update  string
		want    string
		wantErr error
	}{
		{name: "add", have: `{}`, update: `{"a":1}`, want: `{"a":1}`},
		{name: "overwrite keeps others", have: `{"a":1,"b":2}`, update: `{"a":"x"}`, want: `{"a":"x","b":2}`},
		{name: "null deletes", have: `{"a":1,"b":2}`, update: `{"a":null}`, want: `{"b":2}`},
		{name: "null of absent is a no-op", have: `{"b":2}`, update: `{"z":null}`, want: `{"b":2}`},
		{name: "nested replaced whole", have: `{"n":{"x":1,"y":2}}`, update: `{"n":{"x":3}}`, want: `{"n":{"x":3}}`},
		{name: "limit counts the merged result", have: `{"a":"` + strings.Repeat("a", 2100) + `"}`, update: `{"b":"` + strings.Repeat("b", 2100) + `"}`, wantErr: errClaimsTooLarge},
		{name: "exactly at limit", have: `{}`, update: `{"a":"` + strings.Repeat("a", maxCustomClaimsBytes-8) + `"}`, want: `{"a":"` + strings.Repeat("a", maxCustomClaimsBytes-8) + `"}`},
		{name: "one byte over", have: `{}`, update: `{"a":"` + strings.Repeat("a", maxCustomClaimsBytes-7) + `"}`, wantErr: errClaimsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var have claims
			var update claimUpdate
			if err := json.Unmarshal([]byte(tc.have), &have); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.update), &update); err != nil {
				t.Fatal(err)
			}
			got, err := have.merge(update)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
}

func TestCheckClaimName(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		want error
	}{
		{name: "plain", key: "role", want: nil},
		{name: "iss", key: "iss", want: errReservedClaims},
		{name: "sub", key: "sub", want: errReservedClaims},
		{name: "aud", key: "aud", want: errReservedClaims},
		{name: "exp", key: "exp", want: errReservedClaims},
		{name: "nbf", key: "nbf", want: errReservedClaims},
		{name: "iat", key: "iat", want: errReservedClaims},
		{name: "jti", key: "jti", want: errReservedClaims},
		{name: "ISS", key: "ISS", want: errReservedClaims},
		{name: "Sub", key: "Sub", want: errReservedClaims},
		{name: "EXP", key: "EXP", want: errReservedClaims},
		{name: "Aud", key: "Aud", want: errReservedClaims},
		{name: "long s in sub", key: "ſub", want: errReservedClaims},
		{name: "sub with suffix", key: "subject", want: nil},
		{name: "stytch session", key: "https://stytch.com/session", want: errStytchClaims},
		{name: "stytch other", key: "https://stytch.com/x", want: errStytchClaims},
		{name: "stytch prefix only", key: "https://stytch.com/", want: errStytchClaims},
		{name: "stytch in capitals", key: "HTTPS://STYTCH.COM/SESSION", want: errStytchClaims},
		{name: "stytch with long s", key: "httpſ://ſtytch.com/session", want: errStytchClaims},
		{name: "stytch with kelvin sign", key: "https://stytch.com/\u212a", want: errStytchClaims},
		{name: "stytch without slash", key: "https://stytch.com", want: nil},
		{name: "other url", key: "https://example.com/x", want: nil},
		{name: "empty", key: "", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkClaimName(tc.key); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClaimUpdateDecode(t *testing.T) {
	deep := strings.Repeat("[", maxClaimDepth-1) + "1" + strings.Repeat("]", maxClaimDepth-1)
	for _, tc := range []struct {
		name    string
		in      string
		want    string // the canonical update, as JSON
		wantErr string // the error message's start
	}{
		{name: "canonical", in: `{"b" : { "y":1, "x" : [ 1.50, "<&>" ] },"a":null}`, want: `{"a":null,"b":{"x":[1.50,"\u003c\u0026\u003e"],"y":1}}`},
		{name: "max depth", in: `{"d":` + deep + `}`, want: `{"d":` + deep + `}`},
		{name: "too deep", in: `{"d":[` + deep + `]}`, wantErr: "session_custom_claims may nest"},
		{name: "1e400", in: `{"n":1e400}`, wantErr: "session_custom_claims holds a number"},
		{name: "-1e400 nested", in: `{"n":{"m":[-1e400]}}`, wantErr: "session_custom_claims holds a number"},
		{name: "big integer is a float", in: `{"n":123456789012345678901234567890}`, want: `{"n":123456789012345678901234567890}`},
		{name: "top-level name twice", in: `{"a":1,"a":2}`, wantErr: "session_custom_claims names the member"},
		{name: "nested name twice", in: `{"a":{"x":1,"x":2}}`, wantErr: "session_custom_claims names the member"},
		{name: "escaped name twice", in: `{"a":1,"\u0061":2}`, wantErr: "session_custom_claims names the member"},
		{name: "reserved in capitals", in: `{"Sub":"x"}`, wantErr: "session_custom_claims may not use the registered"},
		{name: "escaped stytch name", in: `{"https:\/\/stytch.com\/session":{}}`, wantErr: "session_custom_claims may not use names"},
		{name: "invalid utf-8", in: "{\"a\":\"\xff\"}", wantErr: "session_custom_claims must be valid UTF-8"},
		{name: "lone surrogate reads as U+FFFD", in: `{"a":"\ud800"}`, want: "{\"a\":\"\ufffd\"}"},
		{name: "not an object", in: `[1]`, wantErr: "session_custom_claims must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u claimUpdate
			err := json.Unmarshal([]byte(tc.in), &u)
			if tc.wantErr != "" {
				ae := asAPIError(err)
				if err == nil || ae.typ == "internal_server_error" || !strings.HasPrefix(ae.message, tc.wantErr) {
					t.Fatalf("err = %v, want %q…", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(u)
			if string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}
