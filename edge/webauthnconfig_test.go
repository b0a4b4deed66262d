package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseWebAuthnOrigins(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   string
		want    []string
		wantErr string
	}{
		{name: "unset", value: "", want: nil},
		{name: "list", value: " https://app.example.com, http://localhost:3000/ ,", want: []string{"https://app.example.com", "http://localhost:3000"}},
		{name: "http off loopback", value: "http://app.example.com", wantErr: varWebAuthnOrigins},
		{name: "path", value: "https://app.example.com/login", wantErr: varWebAuthnOrigins},
		{name: "not a URL", value: "app.example.com", wantErr: varWebAuthnOrigins},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWebAuthnOrigins(func(name string) string {
				if name == varWebAuthnOrigins {
					return tc.value
				}
				return ""
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
