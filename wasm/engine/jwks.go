package engine

// GET /v1/sessions/jwks/{project_id} — public: every key that may have
// signed a live JWT.
func (e *Engine) jwks(c *call) error {
	if c.r.PathValue("id") != e.cfg.ProjectID {
		return errProjectNotFound
	}
	pub := e.cfg.Signer.PublicKeys()
	keys := make([]map[string]any, len(pub))
	for i, k := range pub {
		keys[i] = map[string]any{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.KID,
			"key_ops": []string{"verify"}, "n": k.N, "e": k.E,
		}
	}
	c.w.Header().Set("Cache-Control", "public, max-age=300")
	c.reply(map[string]any{"keys": keys})
	return nil
}
