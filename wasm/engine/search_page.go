package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
)

// keysetPage runs query, a SELECT of one JSON object per row ending in
// "ORDER BY … LIMIT ?", with args and limit+1, and returns up to limit
// rows with the cursor of the next page: cursorOf of the last row, as
// unpadded base64url JSON, or "" on the last page. Users search and M2M
// client search page this way, by (created_at, id).
func keysetPage[T any](ctx context.Context, e *Engine, query string, args []any, limit int, cursorOf func(*T) any) ([]*T, string, error) {
	rows, err := e.cfg.DB.QueryContext(ctx, query, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var found []*T
	for rows.Next() {
		v := new(T)
		if err := scanJSON(rows, v); err != nil {
			return nil, "", err
		}
		found = append(found, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(found) <= limit {
		return found, "", nil
	}
	found = found[:limit]
	b, err := json.Marshal(cursorOf(found[len(found)-1]))
	if err != nil {
		return nil, "", err
	}
	return found, base64.RawURLEncoding.EncodeToString(b), nil
}
