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
			var have, update claims
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

func TestCheckClaimNames(t *testing.T) {
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
		{name: "stytch session", key: "https://stytch.com/session", want: errStytchClaims},
		{name: "stytch other", key: "https://stytch.com/x", want: errStytchClaims},
		{name: "other url", key: "https://example.com/x", want: nil},
		{name: "case differs", key: "ISS", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkClaimNames(claims{tc.key: json.RawMessage(`1`)}); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
