package mail_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/mail"
)

// FuzzVerify feeds Verify arbitrary headers and bodies, as a receiver
// gets them from anyone: a body signed with another timestamp or none
// fails with ErrBadSignature, and the same body signed properly either
// fails with ErrBadPayload or gives a payload with an id of 1 to 128
// bytes that marshals back to a body Verify takes the same.
func FuzzVerify(f *testing.F) {
	for _, seed := range []struct{ ts, sig, body string }{
		{"1800000000", "v1=00", `{"id":"0123456789abcdef0123456789abcdef","kind":"otp","to":"a@example.com"}`},
		{"", "", ""},
		{"-1", "v1=", `{"id":""}`},
		{"99999999999999999999", "v2=ab", `{"id":7}`},
		{"1800000000", "v1=zz", `{"id":"x","html":"<p>\u00e9</p>","text":null}`},
		{"1800000000", "v1=", `[{"id":"x"}]`},
		{"1800000000", "v1=", `{"id":"a","id":"b"}`},
	} {
		f.Add(seed.ts, seed.sig, []byte(seed.body))
	}
	secret := bytes.Repeat([]byte("k"), 32)
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(mail.TimestampHeader, ts)
		h.Set(mail.SignatureHeader, sig)
		if _, err := mail.Verify(secret, h, body, now, time.Minute); !errors.Is(err, mail.ErrBadSignature) {
			t.Fatalf("Verify(%q, %q, %q) = %v, want ErrBadSignature", ts, sig, body, err)
		}
		good := strconv.FormatInt(now.Unix(), 10)
		h.Set(mail.TimestampHeader, good)
		h.Set(mail.SignatureHeader, "v1="+mail.Sign(secret, good, body))
		p, err := mail.Verify(secret, h, body, now, time.Minute)
		if err != nil {
			if !errors.Is(err, mail.ErrBadPayload) {
				t.Fatalf("signed %q: %v, want nil or ErrBadPayload", body, err)
			}
			return
		}
		if p.ID == "" || len(p.ID) > 128 {
			t.Fatalf("signed %q: id of %d bytes taken", body, len(p.ID))
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		h.Set(mail.SignatureHeader, "v1="+mail.Sign(secret, good, again))
		if q, err := mail.Verify(secret, h, again, now, time.Minute); err != nil || *q != *p {
			t.Fatalf("signed %q read as %+v, marshalled back as %s, read again as %+v, %v", body, p, again, q, err)
		}
	})
}
