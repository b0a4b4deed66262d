package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

const (
	minMagicLinkMinutes     = 5
	maxMagicLinkMinutes     = 10080
	defaultMagicLinkMinutes = 60
)

// Delivery methods of a magic link. Latch does not send mail: an app that
// mails the link itself says so with delivery_method "email" (a Latch
// extension), and the factor it yields is magic_link/email.
const (
	deliveryEmbedded = "embedded"
	deliveryEmail    = "email"
)

// POST /v1/magic_links — an embeddable magic link for an existing user.
func (e *Engine) createMagicLink(c *call) error {
	var a struct {
		UserID            string      `json:"user_id"`
		ExpirationMinutes int         `json:"expiration_minutes"`
		Attributes        *attributes `json:"attributes"`
		DeliveryMethod    string      `json:"delivery_method"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if !e.validID("user", a.UserID) {
		return errInvalidUserID
	}
	switch a.DeliveryMethod {
	case "":
		a.DeliveryMethod = deliveryEmbedded
	case deliveryEmbedded, deliveryEmail:
	default:
		return badRequest("delivery_method must be %q or %q.", deliveryEmbedded, deliveryEmail)
	}
	if a.ExpirationMinutes == 0 {
		a.ExpirationMinutes = defaultMagicLinkMinutes
	}
	if a.ExpirationMinutes < minMagicLinkMinutes || a.ExpirationMinutes > maxMagicLinkMinutes {
		return errExpirationMinutes
	}
	ctx := c.r.Context()
	u, err := e.userByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	token, err := e.newMagicLinkToken()
	if err != nil {
		return err
	}
	now := e.now()
	if err := e.insertMagicLink(ctx, hashToken(token), u.ID, a.DeliveryMethod, "", now, now+int64(a.ExpirationMinutes)*60); err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "token": token})
	return nil
}

// magicLinkAuthenticate is the body of magic_links/authenticate.
type magicLinkAuthenticate struct {
	Token        string `json:"token"`
	CodeVerifier string `json:"code_verifier"`
	loginArgs
}

func (a *magicLinkAuthenticate) validate(*Engine) error {
	if a.Token == "" {
		return badRequest("token is required.")
	}
	return a.check()
}

// POST /v1/magic_links/authenticate — a token works once, also under
// concurrent calls: everything is checked first (the PKCE verifier of a
// link sent with a challenge too), then the token is consumed with one
// conditional UPDATE, and only its winner gets a session.
func (e *Engine) authenticateMagicLink(c *call) error {
	var a magicLinkAuthenticate
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	hash := hashToken(a.Token)
	link, u, err := e.magicLinkWithUser(ctx, hash)
	if err != nil {
		return err
	}
	if link.Used || link.ExpiresAt <= e.now() {
		return errMagicLinkUsed
	}
	if err := checkPKCE(link.CodeChallenge, a.CodeVerifier); err != nil {
		return err
	}
	stepUp, err := e.stepUpSession(ctx, &a.sessionArgs, u.ID)
	if err != nil {
		return err
	}
	if err := e.consumeMagicLink(ctx, hash, e.now()); err != nil {
		return err
	}
	f := factor{Type: "magic_link", DeliveryMethod: deliveryEmbedded, EmbeddedFactor: &embeddedFactor{EmbeddedID: u.ID}}
	methodID := u.ID
	if link.DeliveryMethod == deliveryEmail {
		f = factor{Type: "magic_link", DeliveryMethod: deliveryEmail, EmailFactor: &emailFactor{EmailID: u.EmailID, EmailAddress: u.Email}}
		methodID = u.EmailID
		if err := e.proveEmail(ctx, u, stepUp); err != nil {
			return err
		}
	} else if err := e.activate(ctx, u); err != nil {
		return err
	}
	return e.finishFactorLogin(c, &a.sessionArgs, ending{stepUp: stepUp, requireMFA: a.RequireMFA}, u, f,
		map[string]any{"method_id": methodID, "reset_sessions": false})
}

// PKCE (RFC 7636, S256) for mailed links: a code_challenge is the
// unpadded base64url SHA-256 of a code_verifier of 43 to 128 characters.
const (
	challengeChars  = 43
	minVerifierChar = 43
	maxVerifierChar = 128
)

// checkChallenge validates a code_challenge given with a send.
func checkChallenge(challenge string) error {
	if challenge == "" {
		return nil
	}
	if len(challenge) != challengeChars {
		return badRequest("code_challenge must be the unpadded base64url SHA-256 of the code_verifier (%d characters).", challengeChars)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(challenge); err != nil {
		return badRequest("code_challenge must be the unpadded base64url SHA-256 of the code_verifier (%d characters).", challengeChars)
	}
	return nil
}

// checkPKCE compares verifier with the challenge a link was sent with, in
// constant time. A link sent without a challenge takes no verifier, and
// one sent with a challenge takes none but its own.
func checkPKCE(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "" || verifier == "" || len(verifier) < minVerifierChar || len(verifier) > maxVerifierChar:
		return errPKCEMismatch
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) != 1 {
		return errPKCEMismatch
	}
	return nil
}
