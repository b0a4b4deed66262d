package engine

import (
	"strings"
	"testing"
)

func TestMailTemplates(t *testing.T) {
	d := &MailData{ProjectName: `Acme <&> "Co"`, Email: "a@example.com", Link: "https://example.com/a?b=1&token=x", Code: "012345", ExpiresInMinutes: 15}
	ts, err := parseTemplates(map[string]MailTemplate{MailOTP: {Subject: "{{ .Code }} for\n{{.ProjectName}}", HTML: `<a href="{{.Link}}">{{.ProjectName}}</a>`}})
	if err != nil {
		t.Fatal(err)
	}
	m := ts[MailOTP].render(MailOTP, "from@example.com", d)
	if m.Subject != `012345 for Acme <&> "Co"` {
		t.Errorf("subject %q", m.Subject)
	}
	if want := `<a href="https://example.com/a?b=1&amp;token=x">Acme &lt;&amp;&gt; &#34;Co&#34;</a>`; m.HTML != want {
		t.Errorf("html %q, want %q", m.HTML, want)
	}
	if !strings.Contains(m.Text, "012345") || !strings.Contains(m.Text, "15 minutes") {
		t.Errorf("built-in text kept: %q", m.Text)
	}
	for _, bad := range []map[string]MailTemplate{
		{MailOTP: {Subject: "{{.Password}}"}},
		{MailOTP: {Text: "{{.Code"}},
		{MailOTP: {HTML: "{{Code}}"}},
		{"welcome": {Subject: "hi"}},
	} {
		if _, err := parseTemplates(bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}
