package engine

// GET /v1/sessions/jwks/{project_id} — public: every key that may have
// signed an unexpired JWT (PublicKey.published).
func (e *Engine) jwks(c *call) error {
	if c.r.PathValue("project_id") != e.cfg.ProjectID {
		return errProjectNotFound
	}
	now := e.now()
	keys := []map[string]any{}
	for _, k := range e.cfg.Signer.PublicKeys() {
		if !k.published(now) {
			continue
		}
		keys = append(keys, map[string]any{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.KID,
			"key_ops": []string{"verify"}, "n": k.N, "e": k.E,
		})
	}
	c.w.Header().Set("Cache-Control", "public, max-age=300")
	c.reply(map[string]any{"keys": keys})
	return nil
}

// jwksGrace is how long past its last JWT's expiry a retired key stays
// in the JWKS: the largest clock leeway a verifier may allow.
const jwksGrace = 300

// published reports whether k belongs in the JWKS at now: it signs, or
// a JWT it signed may still be unexpired to a verifier. The longest-lived
// JWT the engine signs is an M2M access token (an hour), so a retired key
// stays an hour and jwksGrace; session JWTs alone would need five minutes.
func (k *PublicKey) published(now int64) bool {
	return k.RetiredAt == 0 || now < k.RetiredAt+maxJWTLifetime+jwksGrace
}

// maxJWTLifetime is the lifetime of the longest-lived JWT the engine signs.
const maxJWTLifetime = max(jwtLifetime, m2mTokenLifetime)
