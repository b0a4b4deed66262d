package engine

import (
	"context"
	"fmt"
	"strings"
)

// m2mClaims are the claims of an M2M access token, in alphabetical order.
// It has no https://stytch.com/session claim, so no session JWT reader
// accepts it (readJWTClaims), and a scope claim no session JWT has, so an
// M2M reader tells the two apart both ways.
type m2mClaims struct {
	Aud   [1]string `json:"aud"`
	Exp   int64     `json:"exp"`
	Iat   int64     `json:"iat"`
	Iss   string    `json:"iss"`
	Jti   string    `json:"jti"`
	Nbf   int64     `json:"nbf"`
	Scope string    `json:"scope"`
	Sub   string    `json:"sub"`
}

// mintM2MJWT returns an RS256 access token for the client, valid for an
// hour from iat, signed by the key that signs session JWTs.
func (e *Engine) mintM2MJWT(ctx context.Context, clientID string, scopes []string, iat int64) (string, error) {
	header, err := e.encodedHeader(e.cfg.Signer.KeyID())
	if err != nil {
		return "", err
	}
	payload, err := marshalJWTJSON(&m2mClaims{
		Aud:   [1]string{e.cfg.ProjectID},
		Exp:   iat + m2mTokenLifetime,
		Iat:   iat,
		Iss:   "stytch.com/" + e.cfg.ProjectID,
		Jti:   e.newID("m2m-token"),
		Nbf:   iat,
		Scope: strings.Join(scopes, " "),
		Sub:   clientID,
	})
	if err != nil {
		return "", fmt.Errorf("engine: m2m jwt claims: %w", err)
	}
	tok, err := e.signJWT(ctx, header, payload)
	if err != nil {
		return "", fmt.Errorf("engine: m2m client %s: %w", clientID, err)
	}
	return tok, nil
}
