package testharness_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchauth/latch/verifier"
)

// These tests run VerifyM2M against the real engine served natively over
// loopback: tokens from its token endpoint, client revocations through its
// revocation feed (see verifier_feed_test.go for the harness).

// newM2MClient creates an M2M client with scopes and returns its id and
// secret.
func (e *feedEdge) newM2MClient(t *testing.T, scopes ...string) (id, secret string) {
	t.Helper()
	m := e.call(t, http.MethodPost, "/v1/m2m/clients", map[string]any{"client_name": "verifier test", "scopes": scopes})["m2m_client"].(map[string]any)
	return m["client_id"].(string), m["client_secret"].(string)
}

// accessToken asks the token endpoint for a token of client id (client
// credentials in the form body) and returns it, or the endpoint's error.
func (e *feedEdge) accessToken(id, secret string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	res, err := http.Post(e.URL+"/v1/public/"+e.ProjectID+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK || out.AccessToken == "" || !strings.EqualFold(out.TokenType, "bearer") || out.ExpiresIn != 3600 {
		return "", fmt.Errorf("token endpoint: %d %+v", res.StatusCode, out)
	}
	return out.AccessToken, nil
}

func (e *feedEdge) mustAccessToken(t *testing.T, id, secret string) string {
	t.Helper()
	tok, err := e.accessToken(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// verifyM2MErr wants VerifyM2M(tok) to fail with want (nil for success).
func verifyM2MErr(v *verifier.Verifier, tok string, want error) func() error {
	return func() error {
		_, err := v.VerifyM2M(context.Background(), tok)
		if want == nil && err == nil || want != nil && errors.Is(err, want) {
			return nil
		}
		return fmt.Errorf("err = %v, want %v", err, want)
	}
}

// TestVerifyM2MEngineToken: a token from the engine's token endpoint
// verifies locally with its client and scopes, Stytch's scope rule
// applies, and neither reader takes the other kind of token.
func TestVerifyM2MEngineToken(t *testing.T) {
	e := startFeedEdge(t)
	v := feedVerifier(t, e, nil)
	ctx := t.Context()
	id, secret := e.newM2MClient(t, "read:users", "write:*")
	tok := e.mustAccessToken(t, id, secret)

	m, err := v.VerifyM2M(ctx, tok, "read:users", "write:books", "write")
	if err != nil {
		t.Fatal(err)
	}
	if m.ClientID != id || !slices.Equal(m.Scopes, []string{"read:users", "write:*"}) || m.ExpiresAt.Sub(m.IssuedAt).Seconds() != 3600 {
		t.Fatalf("VerifyM2M = %+v, want client %s with its scopes, for an hour", m, id)
	}
	if _, err := v.VerifyM2M(ctx, tok, "delete:users"); !errors.Is(err, verifier.ErrInsufficientScope) {
		t.Fatalf("VerifyM2M(delete:users) = %v, want ErrInsufficientScope", err)
	}
	if _, err := v.Verify(ctx, tok); !errors.Is(err, verifier.ErrMalformed) {
		t.Fatalf("Verify(M2M token) = %v, want ErrMalformed", err)
	}
	_, sessionJWT := e.session(t, e.newUser(t))
	if _, err := v.VerifyM2M(ctx, sessionJWT); !errors.Is(err, verifier.ErrNotM2M) {
		t.Fatalf("VerifyM2M(session JWT) = %v, want ErrNotM2M", err)
	}
}

// TestVerifyM2MClientRevoked: deactivating, deleting or rotating a
// client's secret reaches VerifyM2M through the feed as ErrRevoked for
// the tokens it had, leaving other clients alone; a reactivated client's
// new token verifies.
func TestVerifyM2MClientRevoked(t *testing.T) {
	e := startFeedEdge(t)
	v := feedVerifier(t, e, nil)
	bystanderID, bystanderSecret := e.newM2MClient(t, "read:users")
	bystander := e.mustAccessToken(t, bystanderID, bystanderSecret)

	t.Run("deactivate and reactivate", func(t *testing.T) {
		id, secret := e.newM2MClient(t, "read:users")
		tok := e.mustAccessToken(t, id, secret)
		eventually(t, "the token verifying", verifyM2MErr(v, tok, nil))
		e.call(t, http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"status": "inactive"})
		eventually(t, "the deactivated client's token", verifyM2MErr(v, tok, verifier.ErrRevoked))
		if _, err := e.accessToken(id, secret); err == nil {
			t.Fatal("the token endpoint minted for an inactive client")
		}
		e.call(t, http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"status": "active"})
		// A token issued in the second of the deactivation is refused
		// (iat ≤ revoked_at, in whole seconds); one issued after it works.
		eventually(t, "a new token of the reactivated client", func() error {
			tok, err := e.accessToken(id, secret)
			if err != nil {
				return err
			}
			return verifyM2MErr(v, tok, nil)()
		})
		if err := verifyM2MErr(v, tok, verifier.ErrRevoked)(); err != nil {
			t.Fatalf("the token from before the deactivation: %v", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		id, secret := e.newM2MClient(t, "read:users")
		tok := e.mustAccessToken(t, id, secret)
		eventually(t, "the token verifying", verifyM2MErr(v, tok, nil))
		e.call(t, http.MethodDelete, "/v1/m2m/clients/"+id, nil)
		eventually(t, "the deleted client's token", verifyM2MErr(v, tok, verifier.ErrRevoked))
	})
	t.Run("rotate", func(t *testing.T) {
		id, secret := e.newM2MClient(t, "read:users")
		tok := e.mustAccessToken(t, id, secret)
		eventually(t, "the token verifying", verifyM2MErr(v, tok, nil))
		next := e.call(t, http.MethodPost, "/v1/m2m/clients/"+id+"/secrets/rotate/start", nil)["m2m_client"].(map[string]any)["next_client_secret"].(string)
		e.call(t, http.MethodPost, "/v1/m2m/clients/"+id+"/secrets/rotate", nil)
		eventually(t, "the token from before the rotation", verifyM2MErr(v, tok, verifier.ErrRevoked))
		eventually(t, "a token from the new secret", func() error {
			tok, err := e.accessToken(id, next)
			if err != nil {
				return err
			}
			return verifyM2MErr(v, tok, nil)()
		})
	})
	if err := verifyM2MErr(v, bystander, nil)(); err != nil {
		t.Fatalf("another client's token: %v", err)
	}
}
