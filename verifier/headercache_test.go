package verifier

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestHeaderCache(t *testing.T) {
	var c headerCache
	if _, ok := c.get("h"); ok {
		t.Fatal("empty cache answered")
	}
	for i := range 3 * maxHeaders {
		c.add(fmt.Sprint(i), fmt.Sprint("kid", i))
		if kid, ok := c.get(fmt.Sprint(i)); !ok || kid != fmt.Sprint("kid", i) {
			t.Fatalf("get(%d) = %q, %v right after add", i, kid, ok)
		}
		if n := len(*c.m.Load()); n > maxHeaders {
			t.Fatalf("%d entries, want at most %d", n, maxHeaders)
		}
	}
}

func TestHeaderCacheOnlyLearnsVerifiedTokens(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, nil)
	forged := mint(t, withKID(testKeys()[1], k.KID), claimsAt(clk.Now()))
	if _, err := v.Verify(context.Background(), forged); err == nil {
		t.Fatal("forged token verified")
	}
	header := forged[:strings.IndexByte(forged, '.')]
	if _, ok := v.headers.get(header); ok {
		t.Fatal("header of a forged token was cached")
	}
	good := mint(t, k, claimsAt(clk.Now()))
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if kid, ok := v.headers.get(header); !ok || kid != k.KID { // same header segment
		t.Fatalf("header of a verified token: %q, %v", kid, ok)
	}
	// A cached header does not let a forged token through.
	if _, err := v.Verify(context.Background(), forged); err == nil {
		t.Fatal("forged token verified once its header was cached")
	}
}
