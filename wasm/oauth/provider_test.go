package oauth

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProviders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		doc     string
		wantErr string // substring; "" for success
		check   func(t *testing.T, ps []Provider)
	}{
		{name: "empty", doc: " ", check: func(t *testing.T, ps []Provider) {
			if len(ps) != 0 {
				t.Errorf("got %v", ps)
			}
		}},
		{name: "google preset", doc: `[{"provider":"google","client_id":"id","client_secret":"s3cret"}]`, check: func(t *testing.T, ps []Provider) {
			if p := ps[0]; p.Name != "google" || p.Issuer != googleIssuer || !strings.Contains(strings.Join(p.Scopes, " "), "openid") {
				t.Errorf("got %+v", p)
			}
		}},
		{name: "github preset", doc: `[{"provider":"github","client_id":"id","client_secret":"s3cret"}]`, check: func(t *testing.T, ps []Provider) {
			if p := ps[0]; p.Name != "github" || p.TokenURL != githubToken || p.EmailsURL != githubEmails {
				t.Errorf("got %+v", p)
			}
		}},
		{name: "oidc on loopback http", doc: `[{"provider":"oidc","name":"acme","client_id":"id","client_secret":"s3cret","issuer":"http://127.0.0.1:9000"}]`},
		{name: "oidc on localhost http", doc: `[{"provider":"oidc","name":"acme","client_id":"id","client_secret":"s3cret","issuer":"http://localhost:9000"}]`},
		{name: "http off loopback", doc: `[{"provider":"oidc","name":"acme","client_id":"id","client_secret":"s3cret","issuer":"http://idp.example.com"}]`, wantErr: "only on loopback"},
		{name: "oidc without issuer", doc: `[{"provider":"oidc","name":"acme","client_id":"id","client_secret":"s3cret"}]`, wantErr: "needs an issuer"},
		{name: "unknown kind", doc: `[{"provider":"myspace","client_id":"id","client_secret":"s3cret"}]`, wantErr: "not one of"},
		{name: "no client id", doc: `[{"provider":"google","client_secret":"s3cret"}]`, wantErr: "client_id"},
		{name: "no secret", doc: `[{"provider":"google","client_id":"id"}]`, wantErr: "client_secret"},
		{name: "bad name", doc: `[{"provider":"oidc","name":"Acme/../x","client_id":"id","client_secret":"s3cret","issuer":"https://idp.example.com"}]`, wantErr: "name"},
		{name: "two of a name", doc: `[{"provider":"google","client_id":"a","client_secret":"s3cret"},{"provider":"google","client_id":"b","client_secret":"s3cret"}]`, wantErr: "two providers"},
		{name: "unknown field", doc: `[{"provider":"google","client_id":"id","client_secret":"s3cret","colour":"red"}]`, wantErr: "unknown field"},
		{name: "oidc without openid scope", doc: `[{"provider":"google","client_id":"id","client_secret":"s3cret","scopes":["email"]}]`, wantErr: "openid"},
		{name: "bad scope", doc: `[{"provider":"github","client_id":"id","client_secret":"s3cret","scopes":["a b"]}]`, wantErr: "scope"},
		{name: "endpoint with user info", doc: `[{"provider":"github","client_id":"id","client_secret":"s3cret","token_url":"https://u:p@example.com/t"}]`, wantErr: "token_url"},
		{name: "github with issuer", doc: `[{"provider":"github","client_id":"id","client_secret":"s3cret","issuer":"https://github.com"}]`, wantErr: "no issuer"},
		{name: "not a list", doc: `{"provider":"google"}`, wantErr: "not a JSON list"},
		{name: "wrong type quotes no secret", doc: `[{"provider":"google","client_id":"id","client_secret":42}]`, wantErr: "client_secret"},
		{name: "two values", doc: `[] []`, wantErr: "more than one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := ParseProviders([]byte(tc.doc))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want an error with %q, got %+v", tc.wantErr, ps)
			case tc.wantErr != "":
				if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q, want ErrConfig with %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error quotes the secret: %v", err)
				}
			}
			if tc.check != nil {
				tc.check(t, ps)
			}
		})
	}
}

func TestProviderFormatHidesSecret(t *testing.T) {
	ps, err := ParseProviders([]byte(`[{"provider":"google","client_id":"id","client_secret":"s3cret"}]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ps[0].String(), ps[0].GoString()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%q shows the secret", s)
		}
	}
}

func FuzzParseProviders(f *testing.F) {
	f.Add([]byte(`[{"provider":"google","client_id":"id","client_secret":"s"}]`))
	f.Add([]byte(`[{"provider":"oidc","name":"a","client_id":"id","client_secret":"s","issuer":"http://[::1]:1"}]`))
	f.Add([]byte(`[{"provider":"github","client_id":"id","client_secret":"s","token_url":"https://x/%zz"}]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		ps, err := ParseProviders(doc)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		for _, p := range ps {
			if !validName(p.Name) || p.ClientID == "" || p.ClientSecret == "" {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}
