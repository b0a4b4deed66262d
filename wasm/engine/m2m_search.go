package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// m2mCursor is where a page of clients ended: results continue after this
// client in (created_at, client_id) order.
type m2mCursor struct {
	CreatedAt int64  `json:"c"`
	ClientID  string `json:"m"`
}

// m2mSearch is the body of POST /v1/m2m/clients/search.
type m2mSearch struct {
	Query *struct {
		Operator string          `json:"operator"`
		Operands []searchOperand `json:"operands"`
	} `json:"query"`
	Limit  int    `json:"limit"`
	Cursor string `json:"cursor"`

	where  string
	args   []any
	cursor *m2mCursor
}

func (a *m2mSearch) validate(*Engine) error {
	if a.Limit == 0 {
		a.Limit = defaultSearchLimit
	}
	if a.Limit < 1 || a.Limit > maxSearchLimit {
		return errInvalidSearch("limit must be between 1 and %d.", maxSearchLimit)
	}
	a.where = "1"
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
			sql, arg, err := m2mFilterSQL(op)
			if err != nil {
				return err
			}
			parts = append(parts, "("+sql+")")
			a.args = append(a.args, arg)
		}
		a.where = strings.Join(parts, joiner)
	}
	if a.Cursor != "" {
		var cur m2mCursor
		b, err := base64.RawURLEncoding.Strict().DecodeString(a.Cursor)
		if err != nil || len(b) > 256 || decodeExact(b, &cur) != nil || cur.ClientID == "" {
			return errInvalidSearch("cursor is not one a search returned.")
		}
		a.cursor = &cur
	}
	return nil
}

// m2mFilterSQL turns one operand into a condition on m2m_clients and its
// one argument: every filter takes a list, which travels as one JSON
// argument read with json_each. status also takes a single string.
func m2mFilterSQL(op searchOperand) (string, any, error) {
	var list []string
	if op.FilterName == "status" {
		var one string
		if json.Unmarshal(op.FilterValue, &one) == nil {
			list = []string{one}
		}
	}
	if list == nil && (json.Unmarshal(op.FilterValue, &list) != nil || len(list) == 0 || len(list) > maxFilterValues) {
		return "", nil, errInvalidSearch("filter_value of %s must be a list of 1 to %d strings.", clip(op.FilterName), maxFilterValues)
	}
	raw, _ := json.Marshal(list)
	const in = ` IN (SELECT value FROM json_each(?))`
	switch op.FilterName {
	case "client_id":
		return "client_id" + in, string(raw), nil
	case "client_name":
		return "client_name" + in, string(raw), nil
	case "scopes":
		// A client holding any of the scopes listed.
		return "EXISTS (SELECT 1 FROM json_each(m2m_clients.scopes) s WHERE s.value" + in + ")", string(raw), nil
	case "status":
		for _, s := range list {
			if s != m2mStatusActive && s != m2mStatusInactive {
				return "", nil, errInvalidSearch("filter_value of status must be \"active\" or \"inactive\".")
			}
		}
		return "status" + in, string(raw), nil
	}
	return "", nil, errInvalidSearch("filter_name %q is not one Latch searches M2M clients by.", clip(op.FilterName))
}

// POST /v1/m2m/clients/search
func (e *Engine) searchM2MClients(c *call) error {
	var a m2mSearch
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	var total int
	if err := e.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM m2m_clients WHERE `+a.where, a.args...).Scan(&total); err != nil {
		return fmt.Errorf("engine: search m2m clients: %w", err)
	}
	page, args := a.where, append([]any(nil), a.args...)
	if a.cursor != nil {
		page = "(" + a.where + ") AND (created_at > ? OR (created_at = ? AND client_id > ?))"
		args = append(args, a.cursor.CreatedAt, a.cursor.CreatedAt, a.cursor.ClientID)
	}
	found, next, err := keysetPage(ctx, e, `SELECT `+m2mClientObject+` FROM m2m_clients
		WHERE `+page+` ORDER BY created_at, client_id LIMIT ?`, args, a.Limit,
		func(m *m2mClient) any { return m2mCursor{CreatedAt: m.CreatedAt, ClientID: m.ID} })
	if err != nil {
		return fmt.Errorf("engine: search m2m clients: %w", err)
	}
	views := make([]*m2mClientView, len(found))
	for i, m := range found {
		views[i] = m.view()
	}
	c.reply(map[string]any{"m2m_clients": views, "results_metadata": map[string]any{"total": total, "next_cursor": next}})
	return nil
}
