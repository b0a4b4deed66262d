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
// concurrent calls: a step-up's session is checked first, then the token
// is consumed with one conditional UPDATE that holds everything else (live,
// the PKCE verifier of a link sent with a challenge, the step-up's user)
// and reads the link's user, and only its winner gets a session. A login
// is two D1 round trips, three with a session to step up or an email
// proven for the first time; a refused call asks why with a third.
func (e *Engine) authenticateMagicLink(c *call) error {
	var a magicLinkAuthenticate
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	stepUp, err := e.liveStepUp(ctx, &a.sessionArgs)
	if err != nil {
		return err
	}
	hash := hashToken(a.Token)
	delivery, u, err := e.useMagicLink(ctx, hash, a.CodeVerifier, stepUp)
	if err != nil {
		return err
	}
	f := factor{Type: "magic_link", DeliveryMethod: deliveryEmbedded, EmbeddedFactor: &embeddedFactor{EmbeddedID: u.ID}}
	methodID := u.ID
	if delivery == deliveryEmail {
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
	if challenge == "" && verifier == "" {
		return nil
	}
	if challenge == "" || subtle.ConstantTimeCompare([]byte(pkceChallenge(verifier)), []byte(challenge)) != 1 {
		return errPKCEMismatch
	}
	return nil
}

// pkceChallenge is the challenge verifier answers: "" for none, and for a
// verifier of the wrong length one that no link is sent with (a challenge
// is challengeChars of base64url), so that no statement holding a link to
// it matches. useMagicLink's statement compares it in SQL, as a token's
// hash is looked up: what a mismatch's timing could tell is how much of
// the SHA-256 of a verifier the caller chose agrees with the challenge.
func pkceChallenge(verifier string) string {
	if verifier == "" {
		return ""
	}
	if len(verifier) < minVerifierChar || len(verifier) > maxVerifierChar {
		return "-"
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
