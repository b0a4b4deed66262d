package wire

import (
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
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
	}
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
	flagAt := len(valid) - 17 // the mail flag precedes two empty strings, two zero counts and the box flag
	badFlag := append([]byte{}, valid...)
	badFlag[flagAt] = 2
	badBox := append([]byte{}, valid...)
	badBox[len(badBox)-1] = 2
	twice := AppendConfig(nil, &Config{MailTemplates: []MailTemplate{{Kind: "otp"}, {Kind: "otp", Subject: "x"}}})
	manyURLs := appendU32(append([]byte{}, valid[:len(valid)-9]...), MaxRedirectURLs+1)
	manyURLs = append(manyURLs, make([]byte, 4*(MaxRedirectURLs+1)+5)...)
	for _, tt := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{name: "mail flag 2", frame: badFlag, want: ErrFrame},
		{name: "secret box flag 2", frame: badBox, want: ErrFrame},
		{name: "frame before the secret box flag", frame: valid[:len(valid)-1], want: ErrFrame},
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
		string(AppendRevoked(nil)):     "revoked",
		string(AppendSealed(nil, nil)): "", string(AppendOpened(nil, nil)): "", "": "", "Z": "",
	} {
		if got := Kind([]byte(frame)); got != want {
			t.Errorf("Kind(%q) = %q, want %q", frame, got, want)
		}
	}
}
