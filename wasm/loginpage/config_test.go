package loginpage

import (
	"net/http"
	"testing"
)

// TestFormAction: the CSP's form-action names each return origin once,
// an origin that another contains as a prefix included.
func TestFormAction(t *testing.T) {
	s, err := Config{API: http.NotFoundHandler(), ProjectID: "p", Secret: "s", URL: "https://auth.example.com/login",
		ReturnURLs: []string{"https://app.example.com:8443/", "https://app.example.com/", "https://app.example.com/x",
			"https://auth.example.com/account"}}.check()
	if err != nil {
		t.Fatal(err)
	}
	if want := "'self' https://app.example.com:8443 https://app.example.com"; s.formsTo != want {
		t.Errorf("form-action %q, want %q", s.formsTo, want)
	}
}
