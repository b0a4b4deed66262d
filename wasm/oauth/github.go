package oauth

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// githubUser is the part of GitHub's GET /user answer Latch reads.
type githubUser struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
}

// githubEmail is one entry of GitHub's GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubIdentity reads the signed-in user from GitHub's API: the numeric
// id is the subject (a login can be renamed, the id cannot), and the
// primary address counts as verified only when GitHub's address list says
// so. GitHub has no ID token.
func (c *Client) githubIdentity(ctx context.Context, ep *endpoints, tok *Tokens) (*Identity, error) {
	var u githubUser
	if err := c.getJSON(ctx, ep.userinfo, tok.AccessToken, &u); err != nil {
		return nil, fmt.Errorf("%w: %s: user: %w", ErrProvider, c.p.Name, err)
	}
	if u.ID <= 0 {
		return nil, fmt.Errorf("%w: %s: the user has no id", ErrProvider, c.p.Name)
	}
	id := &Identity{Subject: strconv.FormatInt(u.ID, 10), Email: u.Email, PictureURL: u.AvatarURL, Tokens: *tok}
	id.GivenName, id.FamilyName = splitName(u.Name)
	var emails []githubEmail
	// Without the user:email scope the list is refused; the public
	// address then stays unverified.
	if c.p.EmailsURL != "" && c.getJSON(ctx, c.p.EmailsURL, tok.AccessToken, &emails) == nil {
		for _, e := range emails {
			if e.Primary && e.Verified && e.Email != "" {
				id.Email, id.EmailVerified = e.Email, true
				break
			}
		}
	}
	return id, nil
}

// splitName splits a display name at its last space into given and
// family names.
func splitName(name string) (given, family string) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return strings.TrimSpace(name[:i]), name[i+1:]
	}
	return name, ""
}
