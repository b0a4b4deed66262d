package verifier

import (
	"fmt"
	"testing"
)

func TestReadFeedAnswer(t *testing.T) {
	ev := `{"session_id":"session-test-1","user_id":"user-test-1","revoked_at":"2026-01-02T03:04:05Z"}`
	tests := []struct {
		name    string
		body    string
		want    *feedAnswer
		wantBad bool
	}{
		{name: "events", body: `{"events":[` + ev + `],"cursor":"7","reset":false,"has_more":true,"status_code":200,"request_id":"r"}`,
			want: &feedAnswer{events: []feedEvent{{sessionID: "session-test-1", revokedAt: 1767323045}}, cursor: "7", hasMore: true}},
		{name: "empty, reset", body: `{"events":[],"cursor":"0","reset":true,"has_more":false}`,
			want: &feedAnswer{cursor: "0", reset: true}},
		{name: "client event", body: `{"events":[` + ev + `,{"revoked_at":"2026-01-02T03:04:06Z","client_id":"m2m-client-test-1"}],"cursor":"8","reset":false,"has_more":false}`,
			want: &feedAnswer{events: []feedEvent{{sessionID: "session-test-1", revokedAt: 1767323045}, {clientID: "m2m-client-test-1", revokedAt: 1767323046}}, cursor: "8"}},
		{name: "event with both ids", body: `{"events":[{"session_id":"s","client_id":"c","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`, wantBad: true},
		{name: "client event with an empty id", body: `{"events":[{"client_id":"","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`, wantBad: true},
		{name: "client event without time", body: `{"events":[{"client_id":"c"}],"cursor":"1"}`, wantBad: true},
		{name: "repeated member", body: `{"events":[],"cursor":"1","cursor":"2"}`, wantBad: true},
		{name: "repeated event member", body: `{"events":[{"session_id":"a","session_id":"b","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`, wantBad: true},
		{name: "name in another case", body: `{"Events":[` + ev + `],"cursor":"1"}`, wantBad: true},
		{name: "no cursor", body: `{"events":[]}`, wantBad: true},
		{name: "no events", body: `{"cursor":"1"}`, wantBad: true},
		{name: "event without session", body: `{"events":[{"revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`, wantBad: true},
		{name: "event without time", body: `{"events":[{"session_id":"a"}],"cursor":"1"}`, wantBad: true},
		{name: "reset not a bool", body: `{"events":[],"cursor":"1","reset":"true"}`, wantBad: true},
		{name: "trailing text", body: `{"events":[],"cursor":"1"} x`, wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := readFeedAnswer(tt.body)
			if ok == tt.wantBad {
				t.Fatalf("ok = %v, want %v", ok, !tt.wantBad)
			}
			if tt.wantBad {
				return
			}
			if fmt.Sprint(*got) != fmt.Sprint(*tt.want) {
				t.Fatalf("got %+v, want %+v", *got, *tt.want)
			}
		})
	}
}
