package wire

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"testing"
)

// seeds returns one valid frame of every kind.
func seeds() [][]byte {
	stmt, _ := AppendStmt(nil, &Stmt{Query: true, SQL: "SELECT ?", Args: []any{nil, int64(1), 2.5, "s", []byte("b")}})
	res, _ := AppendResult(nil, sampleResult())
	fetch, _ := AppendFetch(nil, sampleFetch())
	fetched, _ := AppendFetched(nil, sampleFetched())
	redirect, _ := AppendFetched(nil, &Fetched{Status: 302, Header: http.Header{"Location": {"/x"}}})
	return [][]byte{
		AppendConfig(nil, sampleConfig()),
		AppendConfig(nil, &Config{ProjectID: "p", Secret: "s", KeyID: "k"}),
		AppendMail(nil, sampleMail()),
		AppendRequest(nil, sampleRequest()),
		AppendResponse(nil, &Response{Status: 200, Body: []byte("{}")}),
		stmt, res,
		AppendSign(nil, "kid", []byte("in")),
		AppendSignature(nil, []byte("sig")),
		AppendSeal(nil, []byte("JBSWY3DPEHPK3PXP")),
		AppendSealed(nil, []byte{1, 2, 3}),
		AppendOpen(nil, []byte{1, 2, 3}),
		AppendOpened(nil, nil),
		AppendSealed(nil, make([]byte, MaxSealed)),
		{kindOpen, 0, 16, 0, 0}, // 4 KiB + 1 declared, nothing there
		AppendRevoked(nil),
		fetch, fetched, redirect,
		{kindFetched, 200, 0, 0, 0, 0, 0, 0, 0, 1, 0, 16, 0}, // a body of 1 MiB + 1 declared
		{kindFetch, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0},      // 257 header lines declared
		AppendOK(nil),
		AppendError(nil, "boom"),
		{kindResult, 0, 0, 0, 0, 255, 255, 255, 255},
	}
}

// FuzzParse feeds arbitrary bytes to every parser: none may panic, every
// failure wraps ErrFrame or ErrTooLarge or is a *RemoteError, and whatever
// parses re-encodes to a frame that parses to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		check := func(name string, err error) bool {
			var re *RemoteError
			if err != nil && !errors.Is(err, ErrFrame) && !errors.Is(err, ErrTooLarge) && !errors.As(err, &re) {
				t.Fatalf("%s: unexpected error %v", name, err)
			}
			return err == nil
		}
		if c, err := ParseConfig(frame); check("config", err) {
			again, err := ParseConfig(AppendConfig(nil, c))
			if err != nil || !reflect.DeepEqual(c, again) {
				t.Fatalf("config round trip: %v\n%#v\n%#v", err, c, again)
			}
		}
		if q, err := ParseRequest(frame); check("request", err) {
			again, err := ParseRequest(AppendRequest(nil, q))
			if err != nil || !reflect.DeepEqual(q, again) {
				t.Fatalf("request round trip: %v", err)
			}
		}
		if p, err := ParseResponse(frame); check("response", err) {
			again, err := ParseResponse(AppendResponse(nil, p))
			if err != nil || !reflect.DeepEqual(p, again) {
				t.Fatalf("response round trip: %v", err)
			}
		}
		if s, err := ParseStmt(frame); check("stmt", err) {
			b, err := AppendStmt(nil, s)
			if err != nil {
				t.Fatalf("stmt re-encode: %v", err)
			}
			if !bytes.Equal(b, frame) {
				t.Fatalf("stmt re-encode differs")
			}
		}
		if res, err := ParseResult(frame); check("result", err) {
			b, err := AppendResult(nil, res)
			if err != nil {
				t.Fatalf("result re-encode: %v", err)
			}
			if !bytes.Equal(b, frame) {
				t.Fatalf("result re-encode differs")
			}
		}
		if kid, in, err := ParseSign(frame); check("sign", err) {
			if !bytes.Equal(AppendSign(nil, kid, in), frame) {
				t.Fatalf("sign re-encode differs")
			}
		}
		if sig, err := ParseSignature(frame); check("signature", err) {
			if !bytes.Equal(AppendSignature(nil, sig), frame) {
				t.Fatalf("signature re-encode differs")
			}
		}
		if m, err := ParseMail(frame); check("mail", err) {
			if !bytes.Equal(AppendMail(nil, m), frame) {
				t.Fatalf("mail re-encode differs")
			}
		}
		if q, err := ParseFetch(frame); check("fetch", err) {
			b, err := AppendFetch(nil, q)
			if err != nil {
				t.Fatalf("fetch re-encode: %v", err)
			}
			if again, err := ParseFetch(b); err != nil || !reflect.DeepEqual(q, again) {
				t.Fatalf("fetch round trip: %v", err)
			}
		}
		if p, err := ParseFetched(frame); check("fetched", err) {
			b, err := AppendFetched(nil, p)
			if err != nil {
				t.Fatalf("fetched re-encode: %v", err)
			}
			if again, err := ParseFetched(b); err != nil || !reflect.DeepEqual(p, again) {
				t.Fatalf("fetched round trip: %v", err)
			}
		}
		for _, p := range []struct {
			name   string
			parse  func([]byte) ([]byte, error)
			append func(b, v []byte) []byte
		}{
			{name: "seal", parse: ParseSeal, append: AppendSeal},
			{name: "sealed", parse: ParseSealed, append: AppendSealed},
			{name: "open", parse: ParseOpen, append: AppendOpen},
			{name: "opened", parse: ParseOpened, append: AppendOpened},
		} {
			if v, err := p.parse(frame); check(p.name, err) {
				if !bytes.Equal(p.append(nil, v), frame) {
					t.Fatalf("%s re-encode differs", p.name)
				}
			}
		}
		check("ok", ParseOK(frame))
		if check("revoked", ParseRevoked(frame)) && !bytes.Equal(AppendRevoked(nil), frame) {
			t.Fatalf("revoked re-encode differs")
		}
		_ = Kind(frame)
	})
}
