package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseLoginConfig(t *testing.T) {
	base := map[string]string{varLoginURL: "https://auth.example.com/login", varLoginReturnURLs: " https://app.example.com/ , https://app.example.com/settings"}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(name string) string { return m[name] }
	}
	if c, err := parseLoginConfig(func(string) string { return "" }); c != nil || err != nil {
		t.Errorf("no settings: %+v, %v; want the page off", c, err)
	}
	c, err := parseLoginConfig(with(varLoginMinutes, "60", varProjectName, "Acme", varLoginAccent, "#123456", varLoginDomain, "example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != base[varLoginURL] || len(c.ReturnURLs) != 2 || c.ReturnURLs[1] != "https://app.example.com/settings" ||
		c.SessionDurationMinutes != 60 || c.Name != "Acme" || c.Colors.Accent != "#123456" || c.CookieDomain != "example.com" {
		t.Errorf("parsed %+v", c)
	}
	// Only the header Cloudflare sets names the client; the ones a client
	// or a proxy may send are never read.
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{name: "CF-Connecting-IP", headers: map[string]string{"CF-Connecting-IP": "203.0.113.7"}, want: "203.0.113.7"},
		{name: "forwarding headers beside it", headers: map[string]string{"CF-Connecting-IP": "203.0.113.7",
			"X-Forwarded-For": "198.51.100.1", "X-Real-IP": "198.51.100.2", "True-Client-IP": "198.51.100.3",
			"Forwarded": "for=198.51.100.4"}, want: "203.0.113.7"},
		{name: "forwarding headers alone", headers: map[string]string{"X-Forwarded-For": "198.51.100.1",
			"X-Real-IP": "198.51.100.2"}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = "10.0.0.1:1234"
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if ip := c.ClientIP(r); ip != tc.want {
				t.Errorf("client IP %q, want %q", ip, tc.want)
			}
		})
	}
	for name, get := range map[string]func(string) string{
		"no return URLs": with(varLoginReturnURLs, " , "),
		"minutes":        with(varLoginMinutes, "ten"),
		"zero minutes":   with(varLoginMinutes, "0"),
	} {
		if _, err := parseLoginConfig(get); err == nil || !strings.Contains(err.Error(), "LATCH_LOGIN_") {
			t.Errorf("%s: error %v, want one naming the setting", name, err)
		}
	}
}
