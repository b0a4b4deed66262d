//go:build !js

package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/latchauth/latch/edge/internal/e2e"
)

// callOTP is the code login measured on the Latch Worker and the baseline.
const callOTP = "otps/authenticate + session mint"

// otpMinutes is how long a prepared code lives: the engine's longest
// (expiration_minutes at most 10).
const otpMinutes = 10

// otpChunk bounds the codes stored per statement batch: one `wrangler d1
// execute --command` holds a chunk, and an argument of the command line
// may not exceed 128 KiB.
const otpChunk = 100

// otpCode is one prepared code: the email it was sent to and its user.
type otpCode struct {
	UserID  string `json:"user_id"`
	Email   string `json:"email"`
	EmailID string `json:"email_id"`
	Code    string `json:"-"`
	Hash    string `json:"code_hash"`
}

// otpHash is the hash the engine stores for code sent to emailID
// (wasm/engine: the key derived in New, otpHash in otps.go): HMAC-SHA256,
// keyed with SHA-256 of a fixed label and the project secret, of the
// email id, a zero byte and the code.
func otpHash(secret, emailID, code string) string {
	key := sha256.Sum256([]byte("latch one-time code key\x00" + secret))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(emailID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// newOTP returns six random decimal digits.
func newOTP() (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000), nil
}

// prepareOTPs gives lt (the Latch Worker w) and bt (the baseline) count
// live codes each, each for its own user (a code works once, and a user
// has one live code at a time), whose email is verified: the timed login
// is that of a returning user. On Latch the users are created through the
// API; the bench Worker has no mail transport (login_or_create answers
// 503), so their emails are marked verified and their codes stored, as
// the engine stores a mailed one, in its D1 directly. The baseline stores
// both through its /bench/setup-otps.
func prepareOTPs(ctx context.Context, client *http.Client, w *e2e.Worker, lt, bt *target, count int) error {
	expires := time.Now().Add(otpMinutes * time.Minute).Unix()
	for len(lt.codes) < count {
		chunk, err := latchUsers(client, lt, min(otpChunk, count-len(lt.codes)))
		if err != nil {
			return fmt.Errorf("%s: %w", lt.name, err)
		}
		if _, err := w.QueryD1(ctx, storeCodesSQL(chunk, expires)); err != nil {
			return fmt.Errorf("%s: %w", lt.name, err)
		}
		lt.codes = append(lt.codes, chunk...)
	}
	for len(bt.codes) < count {
		chunk := make([]otpCode, min(otpChunk, count-len(bt.codes)))
		for i := range chunk {
			id := uuid.NewString()
			c, err := sealedCode(bt.auth[1], otpCode{
				UserID: "user-test-" + id, Email: "bench-otp-" + id + "@example.com", EmailID: "email-test-" + uuid.NewString(),
			})
			if err != nil {
				return err
			}
			chunk[i] = c
		}
		if _, err := post(client, bt, "/bench/setup-otps", map[string]any{"codes": chunk, "expires_at": expires}); err != nil {
			return fmt.Errorf("%s: %w", bt.name, err)
		}
		bt.codes = append(bt.codes, chunk...)
	}
	return nil
}

// latchUsers creates n users on t through POST /v1/users and returns a
// code for each, not stored yet.
func latchUsers(client *http.Client, t *target, n int) ([]otpCode, error) {
	out := make([]otpCode, n)
	for i := range out {
		email := "bench-otp-" + uuid.NewString() + "@example.com"
		u, err := post(client, t, "/v1/users", map[string]any{"email": email})
		if err != nil {
			return nil, err
		}
		c := otpCode{Email: email}
		c.UserID, _ = u["user_id"].(string)
		c.EmailID, _ = u["email_id"].(string)
		if c.UserID == "" || c.EmailID == "" {
			return nil, errors.New("/v1/users: no user_id or email_id in answer")
		}
		if out[i], err = sealedCode(t.auth[1], c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sealedCode draws c's code and computes its stored hash under secret.
func sealedCode(secret string, c otpCode) (otpCode, error) {
	code, err := newOTP()
	if err != nil {
		return c, err
	}
	c.Code, c.Hash = code, otpHash(secret, c.EmailID, code)
	return c, nil
}

// storeCodesSQL marks the users' emails verified and stores their codes,
// with the columns the engine's mailOTP writes (attempts and used_at keep
// their defaults, 0 and NULL).
func storeCodesSQL(codes []otpCode, expires int64) string {
	now := time.Now().Unix()
	users := make([]string, len(codes))
	rows := make([]string, len(codes))
	for i, c := range codes {
		users[i] = quote(c.UserID)
		rows[i] = fmt.Sprintf("(%s, %s, %s, %d, %d)", quote(c.EmailID), quote(c.UserID), quote(c.Hash), now, expires)
	}
	return "UPDATE users SET email_verified = 1 WHERE user_id IN (" + strings.Join(users, ", ") + ");\n" +
		"INSERT INTO email_otps (email_id, user_id, code_hash, created_at, expires_at) VALUES " + strings.Join(rows, ",\n") + ";"
}

// quote is s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// otpLogin times the login with t's next prepared code and a new 60-minute
// session, and checks the answer: a session of the code's user, with its
// token and JWT and the code's factor.
func otpLogin(client *http.Client, t *target) (time.Duration, error) {
	if len(t.codes) == 0 {
		return 0, fmt.Errorf("%s: no prepared code left", t.name)
	}
	c := t.codes[0]
	t.codes = t.codes[1:]
	start := time.Now()
	out, err := post(client, t, "/v1/otps/authenticate", map[string]any{"method_id": c.EmailID, "code": c.Code, "session_duration_minutes": 60})
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.name, err)
	}
	if err := checkOTPLogin(out, c); err != nil {
		return 0, fmt.Errorf("%s: otps/authenticate: %w", t.name, err)
	}
	t.otpSession, _ = out["session_token"].(string)
	return d, nil
}

// checkOTPLogin reports what an otps/authenticate answer lacks of a new
// session of c's user started by c.
func checkOTPLogin(out map[string]any, c otpCode) error {
	s, _ := out["session"].(map[string]any)
	factors, _ := s["authentication_factors"].([]any)
	var f map[string]any
	if len(factors) == 1 {
		f, _ = factors[0].(map[string]any)
	}
	tok, _ := out["session_token"].(string)
	jwt, _ := out["session_jwt"].(string)
	switch {
	case out["user_id"] != c.UserID || s["user_id"] != c.UserID:
		return fmt.Errorf("not a session of %s: %v", c.UserID, out["user_id"])
	case s["session_id"] == nil || len(tok) != 44 || strings.Count(jwt, ".") != 2:
		return errors.New("no session, session_token or session_jwt in answer")
	case f == nil || f["type"] != "otp" || out["method_id"] != c.EmailID:
		return fmt.Errorf("not the code's factor: %v", factors)
	}
	return nil
}

// checkOTPSession checks that the session t's last code login started
// authenticates, as a stored session does.
func checkOTPSession(client *http.Client, t *target) error {
	out, err := post(client, t, "/v1/sessions/authenticate", map[string]any{"session_token": t.otpSession})
	if err != nil {
		return fmt.Errorf("%s: the session of a code login: %w", t.name, err)
	}
	if jwt, _ := out["session_jwt"].(string); strings.Count(jwt, ".") != 2 {
		return fmt.Errorf("%s: the session of a code login: no session_jwt in answer", t.name)
	}
	return nil
}

// reportOTP prints the code login's table: the Latch Worker against the
// baseline.
func reportOTP(stdout io.Writer, lt, bt *target) {
	ls, bs := summarize(lt.lat[callOTP]), summarize(bt.lat[callOTP])
	fmt.Fprintf(stdout, "## Edge: `POST /v1/otps/authenticate` on workerd (wrangler dev, local D1)\n\n")
	fmt.Fprintf(stdout, "| Worker | p50 | p99 | mean | p50 × JS baseline |\n|---|---|---|---|---|\n")
	for _, t := range []*target{lt, bt} {
		s := summarize(t.lat[callOTP])
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %.2f× |\n", t.name, ms(s.p50), ms(s.p99), ms(s.mean), ratio(s.p50, bs.p50))
	}
	fmt.Fprintf(stdout, "\np50 ratio Latch / JS baseline (same D1 statements): **%.2f×** (budget: p50 and p99 ≤ 1.10×); p99 ratio: %.2f×; mean ratio: %.2f×\n\n", ratio(ls.p50, bs.p50), ratio(ls.p99, bs.p99), ratio(ls.mean, bs.mean))
	reportCPU(stdout, callOTP, lt, bt)
	fmt.Fprintf(stdout, "%s: one code per call, prepared before the timed calls (untimed), each for its own active user whose email is verified; the timed call reads the code's user, counts the attempt and uses the code in one statement (its HMAC compared in SQL) and mints a 60-minute session and its JWT. Baseline: `edge/bench/baseline.mjs`, the engine's statements in its order, the HMAC and the JWT with WebCrypto.\n\n", callOTP)
}
