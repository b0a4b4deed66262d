package conformance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Helpers of the machine-to-machine cases (cases_m2m.go): M2M clients,
// the token endpoint as an OAuth 2 client calls it, and the M2M JWT.

// m2mClient is a client as created: its id, its secret (shown once) and
// the creation answer's m2m_client.
type m2mClient struct {
	id, secret string
	body       obj
}

// newM2MClient creates a client with scopes and a name no other case uses.
func (c *client) newM2MClient(tag string, scopes ...string) m2mClient {
	c.t.Helper()
	if scopes == nil {
		scopes = []string{}
	}
	m := c.createM2MClient(obj{"client_name": tag + "-" + randomHex(6), "scopes": scopes})
	return m2mClient{id: str(c.t, m, "client_id"), secret: str(c.t, m, "client_secret"), body: m}
}

// createM2MClient posts body to /v1/m2m/clients and returns m2m_client.
func (c *client) createM2MClient(body obj) obj {
	c.t.Helper()
	m, ok := c.ok(c.post("/v1/m2m/clients", body))["m2m_client"].(obj)
	if !ok {
		c.t.Fatalf("create: no m2m_client object")
	}
	return m
}

// m2mGet reads a client; the answer never carries a secret.
func (c *client) m2mGet(id string) obj {
	c.t.Helper()
	m, ok := c.ok(c.get("/v1/m2m/clients/" + id))["m2m_client"].(obj)
	if !ok {
		c.t.Fatalf("get %s: no m2m_client object", id)
	}
	noSecrets(c.t, "get", m)
	return m
}

// m2mPut updates a client and returns m2m_client.
func (c *client) m2mPut(id string, body obj) obj {
	c.t.Helper()
	m, ok := c.ok(c.do(http.MethodPut, "/v1/m2m/clients/"+id, body, withAuth))["m2m_client"].(obj)
	if !ok {
		c.t.Fatalf("update %s: no m2m_client object", id)
	}
	noSecrets(c.t, "update", m)
	return m
}

// m2mRotate posts to a client's rotation endpoint (step "start", "cancel"
// or "" for the rotation itself) and returns m2m_client.
func (c *client) m2mRotate(id, step string) obj {
	c.t.Helper()
	path := "/v1/m2m/clients/" + id + "/secrets/rotate"
	if step != "" {
		path += "/" + step
	}
	m, ok := c.ok(c.post(path, obj{}))["m2m_client"].(obj)
	if !ok {
		c.t.Fatalf("rotate %s: no m2m_client object", step)
	}
	return m
}

// noSecrets fails t when m carries a secret rather than its last four.
func noSecrets(t *testing.T, what string, m obj) {
	t.Helper()
	for _, k := range []string{"client_secret", "next_client_secret", "client_secret_hash"} {
		if _, has := m[k]; has {
			t.Errorf("%s: m2m_client carries %s", what, k)
		}
	}
}

// lastFour is the last four characters of a secret, as a client shows it.
func lastFour(secret string) string { return secret[len(secret)-4:] }

// tokenPath is the target's OAuth 2 token endpoint.
func (c *client) tokenPath() string { return "/v1/public/" + c.tg.ProjectID + "/oauth2/token" }

// clientCredentials gets an access token as an OAuth 2 client library does
// (golang.org/x/oauth2/clientcredentials), with the credentials in HTTP
// Basic or in the form body.
func (c *client) clientCredentials(id, secret string, style oauth2.AuthStyle, scopes ...string) (*oauth2.Token, error) {
	c.t.Helper()
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: c.tg.URL + c.tokenPath(), Scopes: scopes, AuthStyle: style}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)
	return cfg.Token(ctx)
}

// tokenAnswer is a token endpoint's answer: RFC 6749 section 5.1 on
// success, section 5.2 on failure.
type tokenAnswer struct {
	status int
	body   obj
	header http.Header
}

// tokenCall posts body (a url.Values is sent form-encoded, anything else
// as JSON) to the token endpoint, with HTTP Basic credentials when basic
// holds two halves (sent as given: the caller encodes them). It checks
// what every token answer carries.
func (c *client) tokenCall(body any, basic ...string) tokenAnswer {
	c.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = strings.NewReader(string(enc))
	}
	req, err := http.NewRequest(http.MethodPost, c.tg.URL+c.tokenPath(), rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("token endpoint: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("token endpoint: read: %v", err)
	}
	a := tokenAnswer{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		c.t.Fatalf("token endpoint: status %d, body is not a JSON object: %.200q", res.StatusCode, raw)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("token endpoint: Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		c.t.Errorf("token endpoint: Cache-Control %q, want no-store (RFC 6749 section 5.1)", cc)
	}
	if a.status == http.StatusOK {
		if got, _ := a.body["status_code"].(float64); got != 200 {
			c.t.Errorf("token endpoint: status_code %v", a.body["status_code"])
		}
		if id, _ := a.body["request_id"].(string); !requestIDPattern.MatchString(id) {
			c.t.Errorf("token endpoint: request_id %q", id)
		}
	}
	return a
}

// tokenFails asserts an RFC 6749 error answer.
func (c *client) tokenFails(a tokenAnswer, status int, code string) {
	c.t.Helper()
	if a.status != status || a.body["error"] != code {
		c.t.Fatalf("token endpoint: want %d %s, got %d %v", status, code, a.status, a.body)
	}
	if d, ok := a.body["error_description"].(string); !ok || d == "" {
		c.t.Errorf("token endpoint: error_description %v", a.body["error_description"])
	}
	if _, has := a.body["access_token"]; has {
		c.t.Errorf("token endpoint: an error answer carries an access_token")
	}
}

// tokenOK asserts a token answer and returns its access token.
func (c *client) tokenOK(a tokenAnswer) string {
	c.t.Helper()
	if a.status != http.StatusOK {
		c.t.Fatalf("token endpoint: want 200, got %d %v", a.status, a.body)
	}
	if a.body["token_type"] != "bearer" || a.body["expires_in"] != float64(3600) {
		c.t.Errorf("token endpoint: token_type %v expires_in %v, want bearer 3600", a.body["token_type"], a.body["expires_in"])
	}
	return str(c.t, a.body, "access_token")
}

// credentialsForm is a client credentials grant with the credentials in
// the form body.
func credentialsForm(id, secret, scope string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// checkM2MJWT verifies an M2M access token against the target's JWKS and
// asserts its claims: issued to client id with exactly scopes, for an
// hour, without the session claim. It returns the claims.
func (c *client) checkM2MJWT(tok, id string, scopes ...string) jwt.MapClaims {
	c.t.Helper()
	t := c.t
	claims := c.verifyJWT(tok)
	if claims["sub"] != id {
		t.Errorf("m2m jwt sub %v, want %s", claims["sub"], id)
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != c.tg.ProjectID {
		t.Errorf("m2m jwt aud %v, want [%s]", claims["aud"], c.tg.ProjectID)
	}
	s, ok := claims["scope"].(string)
	got := strings.Fields(s)
	if !ok || strings.Join(got, " ") != s {
		t.Errorf("m2m jwt scope %q is not space-separated scopes", claims["scope"])
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(scopes))
	if !slices.Equal(got, want) {
		t.Errorf("m2m jwt scope %q, want %q", claims["scope"], strings.Join(want, " "))
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	nbf, _ := claims["nbf"].(float64)
	if iat == 0 || exp-iat != 3600 || nbf != iat {
		t.Errorf("m2m jwt iat %v nbf %v exp %v: want nbf = iat, exp = iat + 3600", iat, nbf, exp)
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		t.Errorf("m2m jwt has no jti")
	}
	if _, has := claims["https://stytch.com/session"]; has {
		t.Errorf("m2m jwt carries the session claim")
	}
	return claims
}

// clientEvents returns the events of a feed answer about client id.
func clientEvents(body obj, id string) []obj {
	var out []obj
	evs, _ := body["events"].([]any)
	for _, ev := range evs {
		if e := ev.(obj); e["client_id"] == id {
			out = append(out, e)
		}
	}
	return out
}

// jsonDecode decodes the body of res into v.
func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
