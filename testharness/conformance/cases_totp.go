package conformance

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/latchauth/latch/testharness/apitest"
)

// hostNow is the host's clock, read off the iat of a JWT it mints now.
func (c *client) hostNow() int64 {
	c.t.Helper()
	_, login := c.login("clock", 30)
	fresh := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(c.t, login, "session_token")}))
	iat, _ := c.verifyJWT(str(c.t, fresh, "session_jwt"))["iat"].(float64)
	return int64(iat)
}

// decodeQR reads the QR code of a PNG data URL.
func decodeQR(t *testing.T, dataURL string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr_code is not a PNG data URL: %.40q", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("qr_code is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// A generated code is a pure barcode: no perspective, no noise.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("qr_code does not scan: %v", err)
	}
	return res.GetText()
}

var recoveryCodePattern = regexp.MustCompile(`^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$`)

// enrolTOTP creates a TOTP for userID and checks what comes back.
func (c *client) enrolTOTP(userID, email string) (totpID, secret string, codes []string) {
	t := c.t
	t.Helper()
	r := c.post("/v1/totps", obj{"user_id": userID})
	if r.status == http.StatusServiceUnavailable && r.body["error_type"] == "totp_unavailable" {
		t.Skip("host has no secret box for TOTP secrets")
	}
	got := c.ok(r)
	totpID, secret = str(t, got, "totp_id"), str(t, got, "secret")
	if !strings.HasPrefix(totpID, "totp-") {
		t.Errorf("totp_id %q", totpID)
	}
	uri, err := url.Parse(decodeQR(t, str(t, got, "qr_code")))
	if err != nil || uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Query().Get("secret") != secret ||
		!strings.HasSuffix(uri.Path, ":"+email) || uri.Query().Get("issuer") == "" {
		t.Fatalf("QR code holds %v (%v), want otpauth://totp/…:%s?secret=%s&issuer=…", uri, err, email, secret)
	}
	list, _ := got["recovery_codes"].([]any)
	seen := map[string]bool{}
	for _, v := range list {
		s, _ := v.(string)
		if !recoveryCodePattern.MatchString(s) || seen[s] {
			t.Errorf("recovery code %q", s)
		}
		seen[s] = true
		codes = append(codes, s)
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	return totpID, secret, codes
}

func factorTypes(s obj) map[any]bool {
	out := map[any]bool{}
	for _, f := range s["authentication_factors"].([]any) {
		out[field(f.(obj), "type")] = true
	}
	return out
}

var totpCases = []testCase{
	{name: "totp/enrol, step up a password session, replay refused", run: func(t *testing.T, c *client) {
		userID, email, pw := c.passwordUser("totp")
		totpID, secret, _ := c.enrolTOTP(userID, email)
		if got := c.ok(c.get("/v1/users/" + userID))["totps"].([]any); len(got) != 0 {
			t.Errorf("unverified TOTP listed on the user: %v", got)
		}
		session := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		now := c.hostNow()
		code := apitest.TOTP(t, secret, now)
		step := c.ok(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": code, "session_token": str(t, session, "session_token")}))
		s := step["session"].(obj)
		if step["totp_id"] != totpID || s["session_id"] != field(session, "session", "session_id") || step["session_token"] != session["session_token"] {
			t.Fatalf("step-up: %v", step)
		}
		if types := factorTypes(s); len(types) != 2 || !types["password"] || !types["totp"] {
			t.Fatalf("factors %v", s["authentication_factors"])
		}
		for _, f := range s["authentication_factors"].([]any) {
			if field(f.(obj), "type") == "totp" && (field(f.(obj), "delivery_method") != "authenticator_app" ||
				field(f.(obj), "authenticator_app_factor", "totp_id") != totpID) {
				t.Errorf("totp factor %v", f)
			}
		}
		checkSessionJWT(t, c.verifyJWT(str(t, step, "session_jwt")), s)
		listed := c.ok(c.get("/v1/users/" + userID))["totps"].([]any)
		if len(listed) != 1 || field(listed[0].(obj), "totp_id") != totpID || field(listed[0].(obj), "verified") != true {
			t.Errorf("user totps after verification: %v", listed)
		}
		// A code that was used is refused, however soon it comes again.
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": code}), http.StatusUnauthorized, "unable_to_auth_totp_code")
		c.fails(c.post("/v1/totps", obj{"user_id": userID}), http.StatusBadRequest, "totp_already_exists")
		if c.tg.Advance == nil {
			return
		}
		// The window: the step before and after are accepted, older ones
		// and steps not after the last accepted one are not.
		c.advance(30 * time.Second)
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": code}), http.StatusUnauthorized, "unable_to_auth_totp_code")
		c.ok(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(t, secret, now+60)}))
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(t, secret, now+30)}), http.StatusUnauthorized, "unable_to_auth_totp_code")
		c.advance(3 * time.Minute)
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(t, secret, now+90)}), http.StatusUnauthorized, "unable_to_auth_totp_code")
		c.ok(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(t, secret, now+210), "session_duration_minutes": 30}))
	}},
	{name: "totp/recovery codes work once", run: func(t *testing.T, c *client) {
		userID, email := c.newUser("totprecover")
		totpID, secret, codes := c.enrolTOTP(userID, email)
		c.ok(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": apitest.TOTP(t, secret, c.hostNow())}))
		got := c.ok(c.post("/v1/totps/recover", obj{"user_id": userID, "recovery_code": strings.ToUpper(codes[3]), "session_duration_minutes": 30}))
		s := got["session"].(obj)
		if types := factorTypes(s); !types["recovery_codes"] || got["totp_id"] != totpID {
			t.Fatalf("recover: %v", got)
		}
		c.fails(c.post("/v1/totps/recover", obj{"user_id": userID, "recovery_code": codes[3]}), http.StatusUnauthorized, "unable_to_auth_recovery_code")
		c.fails(c.post("/v1/totps/recover", obj{"user_id": userID, "recovery_code": "abcd-efgh-jkmn"}), http.StatusUnauthorized, "unable_to_auth_recovery_code")
		list := c.ok(c.post("/v1/totps/recovery_codes", obj{"user_id": userID}))["totps"].([]any)
		if len(list) != 1 || field(list[0].(obj), "totp_id") != totpID || len(field(list[0].(obj), "recovery_codes").([]any)) != 9 {
			t.Fatalf("recovery_codes after one was used: %v", list)
		}
	}},
	{name: "totp/wrong codes lock, delete removes", run: func(t *testing.T, c *client) {
		userID, email := c.newUser("totplock")
		totpID, secret, _ := c.enrolTOTP(userID, email)
		right := apitest.TOTP(t, secret, c.hostNow())
		wrong := "000000"
		if wrong == right {
			wrong = "000001"
		}
		for range 10 {
			c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": wrong}), http.StatusUnauthorized, "unable_to_auth_totp_code")
		}
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": right}), http.StatusTooManyRequests, "user_lock_limit_reached")
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": "12345"}), http.StatusBadRequest, "invalid_totp_code")
		got := c.ok(c.do(http.MethodDelete, "/v1/users/totps/"+totpID, nil, withAuth))
		if got["user_id"] != userID {
			t.Fatalf("delete: %v", got)
		}
		c.fails(c.post("/v1/totps/authenticate", obj{"user_id": userID, "totp_code": right}), http.StatusNotFound, "totp_not_found")
		c.fails(c.do(http.MethodDelete, "/v1/users/totps/"+totpID, nil, withAuth), http.StatusNotFound, "totp_not_found")
		c.fails(c.do(http.MethodDelete, "/v1/users/totps/nope", nil, withAuth), http.StatusBadRequest, "invalid_totp_id")
		c.fails(c.post("/v1/totps", obj{"user_id": "user-test-00000000-0000-4000-8000-000000000000"}), http.StatusNotFound, "user_not_found")
	}},
}
