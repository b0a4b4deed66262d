package wazerohost

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/sdk"
)

// TestSDKSurface serves the SDK surface from the wazero host in front of
// the API and behind the login page: a token is generated for the
// origins, a preflight from an allowed origin is answered for it, and the
// API and the page are still served beside it.
func TestSDKSurface(t *testing.T) {
	const origin = "http://127.0.0.1:3000"
	s := startWith(t, Config{SDKOrigins: []string{origin},
		LoginPage: &loginpage.Config{ReturnURLs: []string{origin + "/"}}})
	if !strings.HasPrefix(s.PublicToken, "public-token-test-") {
		t.Fatalf("PublicToken %q, want a generated public-token-test-<uuid>", s.PublicToken)
	}
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/sdk/v1/projects/bootstrap/"+s.PublicToken, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodGet)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("preflight: %d, Access-Control-Allow-Origin %q, want %s", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), origin)
	}
	if status, out := call(t, s, http.MethodPost, "/v1/users", map[string]any{"email": "sdk-host@example.com"}); status != http.StatusOK {
		t.Errorf("the API beside the surface: %d %v", status, out)
	}
	res, err = http.Get(s.LoginURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("the login page in front of the surface: GET %s: %d", s.LoginURL, res.StatusCode)
	}

	// Without a token or origins there is no surface, and no token.
	plain := start(t)
	if plain.PublicToken != "" {
		t.Errorf("PublicToken %q without the surface", plain.PublicToken)
	}
}

func TestSDKSettingsErrors(t *testing.T) {
	token := sdk.NewPublicToken("project-test-x")
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "token of another environment", cfg: Config{ProjectID: "project-test-x", Secret: "secret-test-x",
			PublicToken: sdk.NewPublicToken("project-live-x"), SDKOrigins: []string{"http://127.0.0.1:3000"}}},
		{name: "token not a public token", cfg: Config{PublicToken: "public-token-test-nope", SDKOrigins: []string{"http://127.0.0.1:3000"}}},
		{name: "token without origins", cfg: Config{ProjectID: "project-test-x", Secret: "secret-test-x", PublicToken: token}},
		{name: "origin with a path", cfg: Config{SDKOrigins: []string{"http://127.0.0.1:3000/app"}}},
		{name: "origin not http", cfg: Config{SDKOrigins: []string{"ftp://127.0.0.1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newServer(tt.cfg)
			if !errors.Is(err, ErrConfig) || !errors.Is(err, sdk.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig wrapping sdk.ErrConfig", err)
			}
			if s != nil {
				t.Fatal("got a server with an error")
			}
		})
	}
}
