package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	defaultSearchLimit = 100
	maxSearchLimit     = 1000
	maxSearchOperands  = 10
	maxFilterValues    = 100
)

func errInvalidSearch(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "invalid_search_query", format, args...)
}

// searchOperand is one filter of a users search query.
type searchOperand struct {
	FilterName  string          `json:"filter_name"`
	FilterValue json.RawMessage `json:"filter_value"`
}

// searchCursor is where a page ended: results continue after this user in
// (created_at, user_id) order, so users created or deleted meanwhile never
// shift a page.
type searchCursor struct {
	CreatedAt int64  `json:"c"`
	UserID    string `json:"u"`
}

// POST /v1/users/search
func (e *Engine) searchUsers(c *call) error {
	var a struct {
		Query *struct {
			Operator string          `json:"operator"`
			Operands []searchOperand `json:"operands"`
		} `json:"query"`
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if a.Limit == 0 {
		a.Limit = defaultSearchLimit
	}
	if a.Limit < 1 || a.Limit > maxSearchLimit {
		return errInvalidSearch("limit must be between 1 and %d.", maxSearchLimit)
	}
	where, args := "1", []any{}
	if a.Query != nil && len(a.Query.Operands) > 0 {
		var joiner string
		switch strings.ToUpper(a.Query.Operator) {
		case "AND", "":
			joiner = " AND "
		case "OR":
			joiner = " OR "
		default:
			return errInvalidSearch("query.operator must be AND or OR.")
		}
		if len(a.Query.Operands) > maxSearchOperands {
			return errInvalidSearch("query may have at most %d operands.", maxSearchOperands)
		}
		parts := make([]string, 0, len(a.Query.Operands))
		for _, op := range a.Query.Operands {
			sql, opArgs, err := filterSQL(op)
			if err != nil {
				return err
			}
			parts = append(parts, "("+sql+")")
			args = append(args, opArgs...)
		}
		where = strings.Join(parts, joiner)
	}
	ctx := c.r.Context()
	var total int
	if err := e.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE `+where, args...).Scan(&total); err != nil {
		return fmt.Errorf("engine: search users: %w", err)
	}
	page, pageArgs := where, append([]any(nil), args...)
	if a.Cursor != "" {
		cur, err := parseCursor(a.Cursor)
		if err != nil {
			return err
		}
		page = "(" + where + ") AND (u.created_at > ? OR (u.created_at = ? AND u.user_id > ?))"
		pageArgs = append(pageArgs, cur.CreatedAt, cur.CreatedAt, cur.UserID)
	}
	users, next, err := keysetPage(ctx, e, `SELECT `+userObject+` FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE `+page+` ORDER BY u.created_at, u.user_id LIMIT ?`, pageArgs, a.Limit,
		func(u *user) any { return searchCursor{CreatedAt: u.CreatedAt, UserID: u.ID} })
	if err != nil {
		return fmt.Errorf("engine: search users: %w", err)
	}
	results := make([]*userView, len(users))
	for i, u := range users {
		results[i] = u.view()
	}
	c.reply(map[string]any{"results": results, "results_metadata": map[string]any{"total": total, "next_cursor": next}})
	return nil
}

func parseCursor(s string) (searchCursor, error) {
	var cur searchCursor
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) > 256 || decodeExact(b, &cur) != nil || cur.UserID == "" {
		return cur, errInvalidSearch("cursor is not one a search returned.")
	}
	return cur, nil
}

// filterSQL turns one operand into a condition on users u (joined with
// their password p) and its arguments. List values travel as one JSON
// argument, read with json_each, so a long list costs one bound parameter.
func filterSQL(op searchOperand) (string, []any, error) {
	bad := errInvalidSearch("filter_value of %s has the wrong type.", clip(op.FilterName))
	switch op.FilterName {
	case "user_id", "email_address", "email_id":
		var list []string
		if json.Unmarshal(op.FilterValue, &list) != nil || len(list) == 0 || len(list) > maxFilterValues {
			return "", nil, errInvalidSearch("filter_value of %s must be a list of 1 to %d strings.", op.FilterName, maxFilterValues)
		}
		column := map[string]string{"user_id": "u.user_id", "email_address": "u.email", "email_id": "u.email_id"}[op.FilterName]
		if op.FilterName == "email_address" {
			for i := range list {
				list[i] = strings.ToLower(strings.TrimSpace(list[i]))
			}
		}
		raw, _ := json.Marshal(list)
		return column + " IN (SELECT value FROM json_each(?))", []any{string(raw)}, nil
	case "status":
		var s string
		if json.Unmarshal(op.FilterValue, &s) != nil || (s != statusActive && s != statusPending) {
			return "", nil, errInvalidSearch("filter_value of status must be \"active\" or \"pending\".")
		}
		return "u.status = ?", []any{s}, nil
	case "email_verified", "password_exists":
		var b bool
		if json.Unmarshal(op.FilterValue, &b) != nil {
			return "", nil, bad
		}
		if op.FilterName == "password_exists" {
			return "(p.user_id IS NOT NULL) = ?", []any{b}, nil
		}
		return "u.email_verified = ?", []any{b}, nil
	case "email_address_fuzzy", "full_name_fuzzy":
		var s string
		if json.Unmarshal(op.FilterValue, &s) != nil || s == "" || len(s) > 256 {
			return "", nil, bad
		}
		// SQLite's LIKE ignores the case of A to Z only, so the pattern is
		// left as written beyond them (lowered by Go's rules, "É" would
		// never match a stored "É").
		pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(lowerASCII(s)) + "%"
		if op.FilterName == "email_address_fuzzy" {
			return `u.email LIKE ? ESCAPE '\'`, []any{pattern}, nil
		}
		// The full name is its parts that are there, one space apart.
		return `trim(replace(u.first_name || ' ' || u.middle_name || ' ' || u.last_name, '  ', ' ')) LIKE ? ESCAPE '\'`, []any{pattern}, nil
	case "created_at_greater_than", "created_at_less_than":
		var s string
		if json.Unmarshal(op.FilterValue, &s) != nil {
			return "", nil, bad
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return "", nil, bad
		}
		if op.FilterName == "created_at_greater_than" {
			return "u.created_at > ?", []any{t.Unix()}, nil
		}
		return "u.created_at < ?", []any{t.Unix()}, nil
	case "created_at_between":
		var v struct {
			GreaterThan string `json:"greater_than"`
			LessThan    string `json:"less_than"`
		}
		if decodeExact(op.FilterValue, &v) != nil {
			return "", nil, bad
		}
		from, err1 := time.Parse(time.RFC3339, v.GreaterThan)
		to, err2 := time.Parse(time.RFC3339, v.LessThan)
		if err1 != nil || err2 != nil {
			return "", nil, bad
		}
		return "u.created_at > ? AND u.created_at < ?", []any{from.Unix(), to.Unix()}, nil
	}
	return "", nil, errInvalidSearch("filter_name %q is not one Latch searches by.", clip(op.FilterName))
}

// lowerASCII lowers A to Z and leaves every other character as it is.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
