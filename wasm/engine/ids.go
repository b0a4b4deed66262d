package engine

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// newID returns "<kind>-<env>-<uuid v4>" from the engine's randomness.
func (e *Engine) newID(kind string) string {
	id, err := uuid.NewRandomFromReader(e.cfg.Rand)
	if err != nil {
		// A failing CSPRNG is not something to serve through.
		panic(fmt.Sprintf("engine: randomness failed: %v", err))
	}
	return kind + "-" + e.env + "-" + id.String()
}

// validID reports whether s is "<kind>-<env>-<uuid>" for this engine's env.
func (e *Engine) validID(kind, s string) bool {
	prefix := kind + "-" + e.env + "-"
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	rest := s[len(prefix):]
	if len(rest) != 36 {
		return false
	}
	_, err := uuid.Parse(rest)
	return err == nil
}

// Session tokens: 33 random bytes, unpadded URL-safe base64 (44 chars).
// Magic link tokens: 32 random bytes, padded URL-safe base64 (44 chars).
const (
	sessionTokenBytes   = 33
	magicLinkTokenBytes = 32
	tokenChars          = 44
)

func (e *Engine) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.cfg.Rand, b); err != nil {
		return nil, fmt.Errorf("engine: randomness: %w", err)
	}
	return b, nil
}

func (e *Engine) newSessionToken() (string, error) {
	b, err := e.randomBytes(sessionTokenBytes)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (e *Engine) newMagicLinkToken() (string, error) {
	b, err := e.randomBytes(magicLinkTokenBytes)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// wellFormedSessionToken reports whether tok could be a session token.
func wellFormedSessionToken(tok string) bool {
	if len(tok) != tokenChars {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil
}

// hashToken is how opaque tokens are stored: SHA-256, hex. See RATIONALE.md,
// "Why are tokens stored hashed?".
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// stamp formats unix seconds as RFC 3339 UTC, second precision.
func stamp(unix int64) string {
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}

func (e *Engine) now() int64 { return e.cfg.Now().Unix() }
