package verifier

import (
	"testing"
	"time"
)

func TestParseUTC(t *testing.T) {
	for _, s := range []string{
		"2025-04-22T07:41:52Z", "1970-01-01T00:00:00Z", "0000-03-01T00:00:00Z", "0000-01-01T00:00:00Z", "2000-02-29T23:59:59Z",
		"2100-12-31T12:00:00Z", "9999-12-31T23:59:59Z", "2024-01-31T00:00:00Z", "0001-01-01T00:00:00Z",
	} {
		want, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseUTC(s)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseUTC(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{
		"2025-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z",
		"2025-00-01T00:00:00Z", "2025-04-22T24:00:00Z", "2025-04-22T07:41:52+01:00", "2025-04-22 07:41:52Z", "",
	} {
		if got, ok := parseUTC(s); ok {
			t.Errorf("parseUTC(%q) = %v, want rejection", s, got)
		}
	}
}

func FuzzParseUTC(f *testing.F) {
	f.Add("2025-04-22T07:41:52Z")
	f.Add("2000-02-29T23:59:59Z")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseUTC(s)
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339, s)
		if err != nil || !got.Equal(want) {
			t.Fatalf("parseUTC(%q) = %v; time.Parse = %v, %v", s, got, want, err)
		}
	})
}
