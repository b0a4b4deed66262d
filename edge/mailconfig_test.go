package main

import (
	"strings"
	"testing"
)

func TestParseMailConfig(t *testing.T) {
	secret := strings.Repeat("k", 32)
	webhook := map[string]string{
		varMail: transportWebhook, varMailFrom: "Acme <login@example.com>",
		varWebhookURL: "https://mail.example.com/hook", secretWebhook: secret,
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name    string
		env     map[string]string
		wantErr string // a word of the error; "" for none
		check   func(t *testing.T, c mailConfig)
	}{
		{name: "no mail", env: map[string]string{}, check: func(t *testing.T, c mailConfig) {
			if c.Transport != "" {
				t.Errorf("transport %q", c.Transport)
			}
		}},
		{name: "webhook", env: with(webhook, varRedirectURLs, " https://a.example/x , http://localhost:3000/y"), check: func(t *testing.T, c mailConfig) {
			if c.FromAddress != "login@example.com" || string(c.Secret) != secret || len(c.RedirectURLs) != 2 || c.RedirectURLs[1] != "http://localhost:3000/y" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "webhook to loopback over http", env: with(webhook, varWebhookURL, "http://127.0.0.1:8025/webhook")},
		{name: "send_email", env: map[string]string{varMail: transportSendEmail, varMailFrom: "login@example.com"}},
		{name: "templates", env: with(webhook, varMailTemplates, `{"otp":{"subject":"Code {{.Code}}"}}`), check: func(t *testing.T, c mailConfig) {
			if c.Templates["otp"].Subject != "Code {{.Code}}" {
				t.Errorf("templates %+v", c.Templates)
			}
		}},
		{name: "unknown transport", env: with(webhook, varMail, "smtp"), wantErr: varMail + " is neither"},
		{name: "no from", env: with(webhook, varMailFrom, ""), wantErr: varMailFrom},
		{name: "from not an address", env: with(webhook, varMailFrom, "nobody"), wantErr: varMailFrom},
		{name: "no webhook URL", env: with(webhook, varWebhookURL, ""), wantErr: varWebhookURL},
		{name: "webhook over http", env: with(webhook, varWebhookURL, "http://mail.example.com/hook"), wantErr: varWebhookURL},
		{name: "webhook URL with user", env: with(webhook, varWebhookURL, "https://u:p@mail.example.com/hook"), wantErr: varWebhookURL},
		{name: "no secret", env: with(webhook, secretWebhook, ""), wantErr: secretWebhook},
		{name: "short secret", env: with(webhook, secretWebhook, secret[1:]), wantErr: secretWebhook},
		{name: "empty redirect entry", env: with(webhook, varRedirectURLs, "https://a.example/x,,"), wantErr: varRedirectURLs},
		{name: "templates not JSON", env: with(webhook, varMailTemplates, `{"otp":`), wantErr: varMailTemplates},
		{name: "templates with unknown field", env: with(webhook, varMailTemplates, `{"otp":{"body":"x"}}`), wantErr: varMailTemplates},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseMailConfig(func(k string) string { return c.env[k] })
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case c.wantErr != "" && err == nil:
				t.Fatalf("no error, want one naming %s", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("error %q does not name %s", err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secret[1:]) {
				t.Errorf("error quotes the secret: %v", err)
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}
