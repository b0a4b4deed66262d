package wire

import (
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/oauth"
)

func sampleRequest() *Request {
	return &Request{
		Method: "POST", Target: "/v1/sessions/authenticate?x=1", RemoteAddr: "127.0.0.1:5555",
		Header: http.Header{"Authorization": {"Basic abc"}, "X-Multi": {"a", "b"}},
		Body:   []byte(`{"session_token":"t"}`),
	}
}

func sampleResult() *Result {
	return &Result{
		Columns:      []string{"id", "score", "name", "blob", "gone"},
		Rows:         [][]any{{int64(-7), math.Pi, "ünï", []byte{0, 1, 2}, nil}, {int64(math.MaxInt64), -0.5, "", []byte{}, nil}},
		RowsAffected: 3, LastInsertID: -1,
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) []byte
		parse func(frame []byte) (any, error)
		want  any
	}{
		{
			name:  "config",
			build: func(*testing.T) []byte { return AppendConfig(nil, sampleConfig()) },
			parse: func(f []byte) (any, error) { return ParseConfig(f) },
			want:  sampleConfig(),
		},
		{
			name:  "request",
			build: func(*testing.T) []byte { return AppendRequest(nil, sampleRequest()) },
			parse: func(f []byte) (any, error) { return ParseRequest(f) },
			want:  sampleRequest(),
		},
		{
			name: "response",
			build: func(*testing.T) []byte {
				return AppendResponse(nil, &Response{Status: 404, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte("{}")})
			},
			parse: func(f []byte) (any, error) { return ParseResponse(f) },
			want:  &Response{Status: 404, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte("{}")},
		},
		{
			name: "stmt",
			build: func(t *testing.T) []byte {
				b, err := AppendStmt(nil, &Stmt{Query: true, SQL: "SELECT ?", Args: []any{nil, int64(1), 2.5, "s", []byte("b")}})
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			parse: func(f []byte) (any, error) { return ParseStmt(f) },
			want:  &Stmt{Query: true, SQL: "SELECT ?", Args: []any{nil, int64(1), 2.5, "s", []byte("b")}},
		},
		{
			name: "result",
			build: func(t *testing.T) []byte {
				b, err := AppendResult(nil, sampleResult())
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			parse: func(f []byte) (any, error) { return ParseResult(f) },
			want:  sampleResult(),
		},
		{
			name:  "mail",
			build: func(*testing.T) []byte { return AppendMail(nil, sampleMail()) },
			parse: func(f []byte) (any, error) { return ParseMail(f) },
			want:  sampleMail(),
		},
		{
			name:  "signature",
			build: func(*testing.T) []byte { return AppendSignature(nil, []byte{9, 8, 7}) },
			parse: func(f []byte) (any, error) { return ParseSignature(f) },
			want:  []byte{9, 8, 7},
		},
		{
			name:  "seal",
			build: func(*testing.T) []byte { return AppendSeal(nil, []byte("JBSWY3DPEHPK3PXP")) },
			parse: func(f []byte) (any, error) { return ParseSeal(f) },
			want:  []byte("JBSWY3DPEHPK3PXP"),
		},
		{
			name:  "sealed",
			build: func(*testing.T) []byte { return AppendSealed(nil, []byte{1, 0, 255}) },
			parse: func(f []byte) (any, error) { return ParseSealed(f) },
			want:  []byte{1, 0, 255},
		},
		{
			name:  "open",
			build: func(*testing.T) []byte { return AppendOpen(nil, []byte{1, 2, 3}) },
			parse: func(f []byte) (any, error) { return ParseOpen(f) },
			want:  []byte{1, 2, 3},
		},
		{
			name:  "opened, empty plaintext",
			build: func(*testing.T) []byte { return AppendOpened(nil, nil) },
			parse: func(f []byte) (any, error) { return ParseOpened(f) },
			want:  []byte{},
		},
		{
			name:  "fetch",
			build: func(t *testing.T) []byte { return must(t)(AppendFetch(nil, sampleFetch())) },
			parse: func(f []byte) (any, error) { return ParseFetch(f) },
			want:  sampleFetch(),
		},
		{
			name:  "fetched",
			build: func(t *testing.T) []byte { return must(t)(AppendFetched(nil, sampleFetched())) },
			parse: func(f []byte) (any, error) { return ParseFetched(f) },
			want:  sampleFetched(),
		},
		{
			name: "fetched, a redirect with no body",
			build: func(t *testing.T) []byte {
				return must(t)(AppendFetched(nil, &Fetched{Status: 302, Header: http.Header{"Location": {"https://idp.example.com/elsewhere"}}}))
			},
			parse: func(f []byte) (any, error) { return ParseFetched(f) },
			want:  &Fetched{Status: 302, Header: http.Header{"Location": {"https://idp.example.com/elsewhere"}}, Body: []byte{}},
		},
		{
			name: "fetched at the body limit",
			build: func(t *testing.T) []byte {
				return must(t)(AppendFetched(nil, &Fetched{Status: 200, Header: http.Header{}, Body: make([]byte, oauth.MaxResponseBody)}))
			},
			parse: func(f []byte) (any, error) { return ParseFetched(f) },
			want:  &Fetched{Status: 200, Header: http.Header{}, Body: make([]byte, oauth.MaxResponseBody)},
		},
		{
			name:  "sealed at MaxSealed",
			build: func(*testing.T) []byte { return AppendSealed(nil, make([]byte, MaxSealed)) },
			parse: func(f []byte) (any, error) { return ParseSealed(f) },
			want:  make([]byte, MaxSealed),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.build(t))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func sampleConfig() *Config {
	return &Config{
		ProjectID: "project-test-1", Secret: "secret-test-1", KeyID: "jwk-test-a",
		PublicKeys: []PublicKey{{KID: "jwk-test-a", N: "nnn", E: "AQAB"}, {KID: "jwk-test-b", N: "mmm", E: "AQAB", RetiredAt: 1700000000}},
		Mail:       true, MailFrom: "Latch <login@example.com>", ProjectName: "Ünï",
		RedirectURLs:  []string{"https://app.example.com/authenticate", "http://localhost:3000/authenticate"},
		MailTemplates: []MailTemplate{{Kind: "otp", Subject: "Code {{.Code}}"}, {Kind: "password_reset", Text: "{{.Link}}", HTML: "<a href=\"{{.Link}}\">reset</a>"}},
		SecretBox:     true,
		Fetch:         true, OAuthProviders: []byte(`[{"provider":"google","client_id":"c","client_secret":"s"}]`),
		PublicToken: "public-token-test-5e0ab2c4-8a51-4a7e-9c1d-0f2b3a4c5d6e", BaseURL: "http://127.0.0.1:8788",
		WebAuthnOrigins: []string{"http://localhost:3000", "https://app.example.com"},
	}
}

// must returns the frame of an Append that may fail, failing t when it
// does.
func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func sampleFetch() *Fetch {
	return &Fetch{Method: "POST", URL: "https://oauth2.googleapis.com/token",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}, "X-Multi": {"a", "b"}},
		Body:   []byte("grant_type=authorization_code&code=c-1&code_verifier=v")}
}

func sampleFetched() *Fetched {
	return &Fetched{Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"a=1", "b=2"}},
		Body: []byte(`{"access_token":"at","id_token":"h.p.s"}`)}
}

func sampleMail() *Mail {
	return &Mail{From: "Latch <login@example.com>", To: "ada@example.com", Subject: "Your Latch code: 123456",
		Text: "Your code is 123456\n", HTML: "<p>Your code is <b>123456</b></p>", Kind: "otp"}
}

func TestConfigWithoutMail(t *testing.T) {
	c := &Config{ProjectID: "p", Secret: "s", KeyID: "k", PublicKeys: []PublicKey{{KID: "k", N: "n", E: "e"}}}
	got, err := ParseConfig(AppendConfig(nil, c))
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("ParseConfig = %#v, %v; want %#v", got, err, c)
	}
}

func TestMalformedConfig(t *testing.T) {
	valid := AppendConfig(nil, &Config{ProjectID: "p", Secret: "s", KeyID: "k"})
	// The box flag is followed by the fetch flag, three empty byte
	// strings (providers, public token, base URL) and the zero count of
	// WebAuthn origins.
	boxAt := len(valid) - 1 - 1 - 3*4 - 4
	flagAt := boxAt - 16 // the mail flag precedes two empty strings and two zero counts
	badFlag := append([]byte{}, valid...)
	badFlag[flagAt] = 2
	badBox := append([]byte{}, valid...)
	badBox[boxAt] = 2
	badFetch := append([]byte{}, valid...)
	badFetch[boxAt+1] = 2
	twice := AppendConfig(nil, &Config{MailTemplates: []MailTemplate{{Kind: "otp"}, {Kind: "otp", Subject: "x"}}})
	manyURLs := appendU32(append([]byte{}, valid[:boxAt-8]...), MaxRedirectURLs+1)
	manyURLs = append(manyURLs, make([]byte, 4*(MaxRedirectURLs+1)+5)...)
	bigDoc := AppendConfig(nil, &Config{Fetch: true, OAuthProviders: make([]byte, maxOAuthProviders+1)})
	manyOrigins := appendU32(append([]byte{}, valid[:len(valid)-4]...), MaxWebAuthnOrigins+1)
	manyOrigins = append(manyOrigins, make([]byte, 4*(MaxWebAuthnOrigins+1))...)
	longBase := AppendConfig(nil, &Config{BaseURL: strings.Repeat("x", MaxText+1)})
	for _, tt := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{name: "mail flag 2", frame: badFlag, want: ErrFrame},
		{name: "secret box flag 2", frame: badBox, want: ErrFrame},
		{name: "frame before the secret box flag", frame: valid[:boxAt], want: ErrFrame},
		{name: "fetch flag 2", frame: badFetch, want: ErrFrame},
		{name: "frame before the fetch flag", frame: valid[:boxAt+1], want: ErrFrame},
		{name: "frame before the base url", frame: valid[:len(valid)-8], want: ErrFrame},
		{name: "frame before the webauthn origins", frame: valid[:len(valid)-4], want: ErrFrame},
		{name: "too many webauthn origins", frame: manyOrigins, want: ErrTooLarge},
		{name: "trailing", frame: append(append([]byte{}, valid...), 0), want: ErrFrame},
		{name: "providers document over its limit", frame: bigDoc, want: ErrTooLarge},
		{name: "base url over MaxText", frame: longBase, want: ErrTooLarge},
		{name: "template kind twice", frame: twice, want: ErrFrame},
		{name: "too many redirect urls", frame: manyURLs, want: ErrTooLarge},
		{name: "frame before the mail fields", frame: valid[:flagAt], want: ErrFrame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig(tt.frame)
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("ParseConfig = %+v, %v; want %v", c, err, tt.want)
			}
		})
	}
}

func TestMalformedMail(t *testing.T) {
	valid := AppendMail(nil, sampleMail())
	long := AppendMail(nil, &Mail{Text: strings.Repeat("x", maxMailBody+1)})
	longTo := AppendMail(nil, &Mail{To: strings.Repeat("x", MaxText+1)})
	for _, tt := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{name: "truncated", frame: valid[:len(valid)-1], want: ErrFrame},
		{name: "trailing", frame: append(append([]byte{}, valid...), 0), want: ErrFrame},
		{name: "text over maxMailBody", frame: long, want: ErrTooLarge},
		{name: "address over MaxText", frame: longTo, want: ErrTooLarge},
		{name: "a sign frame", frame: AppendSign(nil, "k", nil), want: ErrFrame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMail(tt.frame)
			if !errors.Is(err, tt.want) || m != nil {
				t.Fatalf("ParseMail = %+v, %v; want %v", m, err, tt.want)
			}
		})
	}
}

func TestMalformedSecretBox(t *testing.T) {
	parsers := map[string]func([]byte) ([]byte, error){
		"seal": ParseSeal, "sealed": ParseSealed, "open": ParseOpen, "opened": ParseOpened,
	}
	for _, tt := range []struct {
		name   string
		parser string
		frame  []byte
		want   error
	}{
		{name: "plaintext over MaxPlaintext", parser: "seal", frame: AppendSeal(nil, make([]byte, MaxPlaintext+1)), want: ErrTooLarge},
		{name: "opened over MaxPlaintext", parser: "opened", frame: AppendOpened(nil, make([]byte, MaxPlaintext+1)), want: ErrTooLarge},
		{name: "sealed over MaxSealed", parser: "open", frame: AppendOpen(nil, make([]byte, MaxSealed+1)), want: ErrTooLarge},
		{name: "sealed answer over MaxSealed", parser: "sealed", frame: AppendSealed(nil, make([]byte, MaxSealed+1)), want: ErrTooLarge},
		{name: "length past end", parser: "open", frame: append([]byte{kindOpen}, appendU32(nil, 100)...), want: ErrFrame},
		{name: "truncated length", parser: "seal", frame: []byte{kindSeal, 1, 0}, want: ErrFrame},
		{name: "trailing", parser: "sealed", frame: append(AppendSealed(nil, []byte("x")), 0), want: ErrFrame},
		{name: "open where seal is due", parser: "seal", frame: AppendOpen(nil, []byte("x")), want: ErrFrame},
		{name: "opened where sealed is due", parser: "sealed", frame: AppendOpened(nil, []byte("x")), want: ErrFrame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parsers[tt.parser](tt.frame)
			if !errors.Is(err, tt.want) || v != nil {
				t.Fatalf("Parse %s = %q, %v; want %v", tt.parser, v, err, tt.want)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	kid, input, err := ParseSign(AppendSign(nil, "jwk-test-a", []byte("header.payload")))
	if err != nil || kid != "jwk-test-a" || string(input) != "header.payload" {
		t.Fatalf("ParseSign = %q, %q, %v", kid, input, err)
	}
	if err := ParseOK(AppendOK(nil)); err != nil {
		t.Fatalf("ParseOK: %v", err)
	}
}

func TestRemoteError(t *testing.T) {
	frame := AppendError(nil, "UNIQUE constraint failed: users.email")
	parsers := map[string]func([]byte) error{
		"result":    func(f []byte) error { _, err := ParseResult(f); return err },
		"response":  func(f []byte) error { _, err := ParseResponse(f); return err },
		"signature": func(f []byte) error { _, err := ParseSignature(f); return err },
		"sealed":    func(f []byte) error { _, err := ParseSealed(f); return err },
		"opened":    func(f []byte) error { _, err := ParseOpened(f); return err },
		"fetched":   func(f []byte) error { _, err := ParseFetched(f); return err },
		"ok":        ParseOK,
	}
	for name, parse := range parsers {
		t.Run(name, func(t *testing.T) {
			err := parse(frame)
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *RemoteError", err)
			}
			if re.Message != "UNIQUE constraint failed: users.email" {
				t.Fatalf("message = %q", re.Message)
			}
			if !strings.Contains(err.Error(), "UNIQUE constraint failed") {
				t.Fatalf("Error() = %q lost the message", err.Error())
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	valid := AppendRequest(nil, sampleRequest())
	huge := append([]byte{kindRequest}, appendU32(nil, math.MaxUint32)...)
	manyHeaders := append([]byte{kindRequest}, make([]byte, 12)...)
	manyHeaders = appendU32(manyHeaders, MaxHeaders+1)
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{name: "empty", frame: nil, want: ErrFrame},
		{name: "wrong kind", frame: AppendOK(nil), want: ErrFrame},
		{name: "truncated", frame: valid[:len(valid)-1], want: ErrFrame},
		{name: "trailing", frame: append(append([]byte{}, valid...), 0), want: ErrFrame},
		{name: "length past end", frame: huge, want: ErrTooLarge},
		{name: "too many headers", frame: manyHeaders, want: ErrTooLarge},
		{name: "over MaxFrame", frame: append([]byte{kindRequest}, make([]byte, MaxFrame)...), want: ErrTooLarge},
		{name: "malformed error frame", frame: []byte{kindError, 1}, want: ErrFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseRequest(tt.frame)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if q != nil {
				t.Fatalf("got request %+v with error", q)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	if _, err := AppendStmt(nil, &Stmt{SQL: "x", Args: []any{true}}); !errors.Is(err, ErrFrame) {
		t.Fatalf("bool arg: err = %v, want ErrFrame", err)
	}
	if _, err := AppendResult(nil, &Result{Columns: []string{"a"}, Rows: [][]any{{}}}); !errors.Is(err, ErrFrame) {
		t.Fatalf("short row: err = %v, want ErrFrame", err)
	}
	if _, err := AppendResult(nil, &Result{Rows: [][]any{{}}}); !errors.Is(err, ErrFrame) {
		t.Fatalf("no columns: err = %v, want ErrFrame", err)
	}
	if _, err := ParseResponse(AppendResponse(nil, &Response{Status: 42})); !errors.Is(err, ErrFrame) {
		t.Fatalf("status 42: err = %v, want ErrFrame", err)
	}
}

func TestRevoked(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{name: "valid", frame: AppendRevoked(nil)},
		{name: "trailing", frame: append(AppendRevoked(nil), 0), want: ErrFrame},
		{name: "wrong kind", frame: AppendOK(nil), want: ErrFrame},
		{name: "empty", frame: nil, want: ErrFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseRevoked(tt.frame)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKind(t *testing.T) {
	stmt, _ := AppendStmt(nil, &Stmt{SQL: "x"})
	for frame, want := range map[string]string{
		string(stmt): "stmt", string(AppendSign(nil, "k", nil)): "sign", string(AppendMail(nil, sampleMail())): "mail",
		string(AppendSeal(nil, []byte("p"))): "seal", string(AppendOpen(nil, []byte("s"))): "open",
		string(AppendRevoked(nil)):                       "revoked",
		string(must(t)(AppendFetch(nil, sampleFetch()))): "fetch", string(must(t)(AppendFetched(nil, sampleFetched()))): "",
		string(AppendSealed(nil, nil)): "", string(AppendOpened(nil, nil)): "", "": "", "Z": "",
	} {
		if got := Kind([]byte(frame)); got != want {
			t.Errorf("Kind(%q) = %q, want %q", frame, got, want)
		}
	}
}

func TestMalformedFetch(t *testing.T) {
	valid := must(t)(AppendFetch(nil, sampleFetch()))
	validAnswer := must(t)(AppendFetched(nil, sampleFetched()))
	// Frames over the bounds, written past AppendFetch's checks.
	over := func(kind byte, status bool, h http.Header, body []byte) []byte {
		b := []byte{kind}
		if status {
			b = appendU32(b, 200)
		} else {
			b = appendString(appendString(b, "GET"), "https://idp.example.com/")
		}
		return appendBytes(appendHeader(b, h), body)
	}
	manyLines := http.Header{"X": make([]string, MaxHeaders+1)}
	bigHeader := http.Header{"A": {strings.Repeat("a", MaxText)}, "B": {strings.Repeat("b", maxFetchHeader-MaxText)}}
	bigBody := make([]byte, oauth.MaxResponseBody+1)
	parsers := map[string]func([]byte) (any, error){
		"fetch":   func(f []byte) (any, error) { return ParseFetch(f) },
		"fetched": func(f []byte) (any, error) { return ParseFetched(f) },
	}
	for _, tt := range []struct {
		name   string
		parser string
		frame  []byte
		want   error
	}{
		{name: "truncated", parser: "fetch", frame: valid[:len(valid)-1], want: ErrFrame},
		{name: "trailing", parser: "fetch", frame: append(append([]byte{}, valid...), 0), want: ErrFrame},
		{name: "answer truncated", parser: "fetched", frame: validAnswer[:len(validAnswer)-1], want: ErrFrame},
		{name: "answer trailing", parser: "fetched", frame: append(append([]byte{}, validAnswer...), 0), want: ErrFrame},
		{name: "body over the limit", parser: "fetch", frame: over(kindFetch, false, nil, bigBody), want: ErrTooLarge},
		{name: "answer body over the limit", parser: "fetched", frame: over(kindFetched, true, nil, bigBody), want: ErrTooLarge},
		{name: "too many header lines", parser: "fetch", frame: over(kindFetch, false, manyLines, nil), want: ErrTooLarge},
		{name: "answer with too many header lines", parser: "fetched", frame: over(kindFetched, true, manyLines, nil), want: ErrTooLarge},
		{name: "headers over 64 KiB", parser: "fetch", frame: over(kindFetch, false, bigHeader, nil), want: ErrTooLarge},
		{name: "answer headers over 64 KiB", parser: "fetched", frame: over(kindFetched, true, bigHeader, nil), want: ErrTooLarge},
		{name: "status 0", parser: "fetched", frame: append(append([]byte{kindFetched}, appendU32(nil, 0)...), validAnswer[5:]...), want: ErrFrame},
		{name: "status 1000", parser: "fetched", frame: append(append([]byte{kindFetched}, appendU32(nil, 1000)...), validAnswer[5:]...), want: ErrFrame},
		{name: "an answer where a fetch is due", parser: "fetch", frame: validAnswer, want: ErrFrame},
		{name: "a fetch where an answer is due", parser: "fetched", frame: valid, want: ErrFrame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parsers[tt.parser](tt.frame)
			if !errors.Is(err, tt.want) || !reflect.ValueOf(v).IsNil() {
				t.Fatalf("Parse %s = %+v, %v; want %v", tt.parser, v, err, tt.want)
			}
		})
	}
}

// TestAppendFetchBounds: what a peer would refuse is refused when
// written, and the largest of each bound is written and read back.
func TestAppendFetchBounds(t *testing.T) {
	atLimit := http.Header{"A": {strings.Repeat("a", maxFetchHeader/2-1)}, "B": {strings.Repeat("b", maxFetchHeader/2-1)}}
	if _, err := ParseFetch(must(t)(AppendFetch(nil, &Fetch{Method: "GET", URL: "https://idp.example.com/", Header: atLimit, Body: make([]byte, oauth.MaxResponseBody)}))); err != nil {
		t.Fatalf("fetch at every limit: %v", err)
	}
	lines := make([]string, MaxHeaders)
	if _, err := ParseFetched(must(t)(AppendFetched(nil, &Fetched{Status: 999, Header: http.Header{"X": lines}}))); err != nil {
		t.Fatalf("answer of MaxHeaders lines: %v", err)
	}
	for _, tt := range []struct {
		name string
		f    *Fetch
		a    *Fetched
		want error
	}{
		{name: "fetch body", f: &Fetch{Body: make([]byte, oauth.MaxResponseBody+1)}, want: ErrTooLarge},
		{name: "fetch url", f: &Fetch{URL: strings.Repeat("u", MaxText+1)}, want: ErrTooLarge},
		{name: "fetch method", f: &Fetch{Method: strings.Repeat("M", MaxText+1)}, want: ErrTooLarge},
		{name: "fetch header value", f: &Fetch{Header: http.Header{"A": {strings.Repeat("a", MaxText+1)}}}, want: ErrTooLarge},
		{name: "fetch header lines", f: &Fetch{Header: http.Header{"A": make([]string, MaxHeaders+1)}}, want: ErrTooLarge},
		{name: "fetch header bytes", f: &Fetch{Header: http.Header{"A": {strings.Repeat("a", MaxText)}, "B": {strings.Repeat("b", maxFetchHeader-MaxText)}}}, want: ErrTooLarge},
		{name: "answer body", a: &Fetched{Status: 200, Body: make([]byte, oauth.MaxResponseBody+1)}, want: ErrTooLarge},
		{name: "answer header lines", a: &Fetched{Status: 200, Header: http.Header{"A": make([]string, MaxHeaders+1)}}, want: ErrTooLarge},
		{name: "answer status 99", a: &Fetched{Status: 99}, want: ErrFrame},
		{name: "answer status 1000", a: &Fetched{Status: 1000}, want: ErrFrame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			var err error
			if tt.f != nil {
				b, err = AppendFetch([]byte("x"), tt.f)
			} else {
				b, err = AppendFetched([]byte("x"), tt.a)
			}
			if !errors.Is(err, tt.want) || string(b) != "x" {
				t.Fatalf("Append = %q…, %v; want %v and nothing appended", b[:min(len(b), 8)], err, tt.want)
			}
		})
	}
}
