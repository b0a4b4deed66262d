package verifier

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func TestTokenCacheBoundedAndExact(t *testing.T) {
	c := newTokenCache(64) // 16 shards × 2 generations × 2 entries
	sum := func(i int) *[32]byte {
		s := sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
		return &s
	}
	for i := range 10000 {
		c.put(sum(i), &verified{sig: fmt.Sprint(i), from: 0, until: 100})
	}
	total := 0
	for i := range c.shards {
		total += len(c.shards[i].cur) + len(c.shards[i].old)
	}
	if total > 64 {
		t.Fatalf("%d entries, want at most 64", total)
	}
	c.put(sum(1), &verified{sig: "sig", from: 10, until: 20})
	tests := []struct {
		name string
		sig  string
		now  int64
		hit  bool
	}{
		{name: "inside the window", sig: "sig", now: 10, hit: true},
		{name: "last second", sig: "sig", now: 19, hit: true},
		{name: "at until", sig: "sig", now: 20},
		{name: "before from", sig: "sig", now: 9},
		{name: "other signature", sig: "sig2", now: 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.get(sum(1), tt.sig, tt.now); (got != nil) != tt.hit {
				t.Fatalf("get = %v, want hit %v", got, tt.hit)
			}
		})
	}
	if newTokenCache(0) != nil || newTokenCache(-1) != nil {
		t.Fatal("a non-positive size must disable the cache")
	}
	var off *tokenCache
	off.put(sum(1), &verified{})
	if off.get(sum(1), "", 0) != nil {
		t.Fatal("disabled cache answered")
	}
}
