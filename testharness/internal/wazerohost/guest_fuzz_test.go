package wazerohost

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/latchauth/latch/wasm/guest/wire"
)

// FuzzGuest hands arbitrary frames to a real guest instance's handle and
// configure exports. The guest must answer every one with a well-formed
// frame (a Response, OK, or an Error) and never trap, and the instance must
// stay usable.
func FuzzGuest(f *testing.F) {
	s, err := newServer(Config{Instances: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Add(wire.AppendRequest(nil, &wire.Request{Method: "GET", Target: "/v1/sessions/jwks/" + s.ProjectID}), false)
	f.Add(wire.AppendRequest(nil, &wire.Request{
		Method: "POST", Target: "/v1/users", Header: http.Header{"Authorization": {"Basic eDp5"}}, Body: []byte(`{"email":"a@b.c"}`),
	}), false)
	f.Add(wire.AppendRequest(nil, &wire.Request{Method: "GET /x", Target: "::"}), false)
	f.Add(wire.AppendConfig(nil, &wire.Config{ProjectID: "p", Secret: "s", KeyID: "k", PublicKeys: []wire.PublicKey{{KID: "k", N: "AQAB", E: "AQAB"}}}), true)
	f.Add(wire.AppendConfig(nil, &wire.Config{ProjectID: "p", Secret: "s", KeyID: "k", PublicKeys: []wire.PublicKey{{KID: "k", N: "AQAB", E: "AQAB"}},
		Mail: true, MailFrom: "a@b.c", RedirectURLs: []string{"https://x.test/a"}, MailTemplates: []wire.MailTemplate{{Kind: "otp", Subject: "{{.Code"}}}), true)
	f.Add(wire.AppendConfig(nil, &wire.Config{ProjectID: "p", Secret: "s", KeyID: "k", PublicKeys: []wire.PublicKey{{KID: "k", N: "AQAB", E: "AQAB"}}, SecretBox: true}), true)
	google := []byte(`[{"provider":"google","client_id":"c","client_secret":"s"}]`)
	f.Add(wire.AppendConfig(nil, &wire.Config{ProjectID: "project-test-p", Secret: "s", KeyID: "k", PublicKeys: []wire.PublicKey{{KID: "k", N: "AQAB", E: "AQAB"}},
		SecretBox: true, Fetch: true, OAuthProviders: google, PublicToken: "public-token-test-p", BaseURL: "http://127.0.0.1:1"}), true)
	f.Add(wire.AppendConfig(nil, &wire.Config{ProjectID: "project-test-p", Secret: "s", KeyID: "k", PublicKeys: []wire.PublicKey{{KID: "k", N: "AQAB", E: "AQAB"}},
		SecretBox: true, OAuthProviders: google[:20], PublicToken: "public-token-test-p"}), true)
	f.Add([]byte{}, false)
	f.Add([]byte("Q\xff\xff\xff\xff"), true)
	f.Fuzz(func(t *testing.T, frame []byte, configure bool) {
		ctx := context.Background()
		inst, err := s.host.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fn := inst.handle
		if configure {
			fn = inst.configure
			inst.gen = 0 // whatever happens, reconfigure before the next use
		}
		answer, err := inst.exchange(ctx, fn, frame)
		if err != nil {
			s.host.discard(ctx, inst)
			t.Fatalf("guest trapped: %v", err)
		}
		s.host.put(inst)
		if configure {
			err = wire.ParseOK(answer)
		} else {
			_, err = wire.ParseResponse(answer)
		}
		var remote *wire.RemoteError
		if err != nil && !errors.As(err, &remote) {
			t.Fatalf("malformed answer %q: %v", answer, err)
		}
	})
}
