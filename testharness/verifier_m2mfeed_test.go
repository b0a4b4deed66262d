package testharness_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/verifier"
)

// m2mBenchClient creates an M2M client with scopes on api and returns its id
// and secret.
func m2mBenchClient(tb testing.TB, api apitest.Client, scopes ...string) (id, secret string) {
	tb.Helper()
	m := api.MustPost(tb, "/v1/m2m/clients", map[string]any{"client_name": "bench", "scopes": scopes})["m2m_client"].(map[string]any)
	return m["client_id"].(string), m["client_secret"].(string)
}

// m2mBenchToken mints an access token for a client through the token endpoint,
// credentials in the form body.
func m2mBenchToken(tb testing.TB, api apitest.Client, id, secret string) string {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	res, err := api.HTTP.Post(api.URL+"/v1/public/"+api.ProjectID+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("token endpoint: %d %v %v", res.StatusCode, out, err)
	}
	return out["access_token"].(string)
}

// BenchmarkVerifyM2MRevocationLatency is BenchmarkVerifyRevocationLatency
// for M2M clients: against the native engine over loopback, each op
// creates a client and mints its token (untimed), deactivates the client
// (PUT status inactive) and polls VerifyM2M every 100 µs until
// verifier.ErrRevoked (ns/op: the deactivation call included;
// after-deactivate-p50/p99-ms: from the call's answer on).
func BenchmarkVerifyM2MRevocationLatency(b *testing.B) {
	srv := native.Start(b, native.Config{})
	api := apitest.Client{URL: srv.URL, ProjectID: srv.ProjectID, Secret: srv.Secret, HTTP: http.DefaultClient}
	v, err := verifier.New(context.Background(), verifier.Config{ProjectID: srv.ProjectID, BaseURL: srv.URL, Secret: srv.Secret})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	var after []time.Duration
	for b.Loop() {
		b.StopTimer()
		id, secret := m2mBenchClient(b, api, "read")
		tok := m2mBenchToken(b, api, id, secret)
		if _, err := v.VerifyM2M(ctx, tok, "read"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if status, out, err := api.Do(ctx, http.MethodPut, "/v1/m2m/clients/"+id, map[string]any{"status": "inactive"}); err != nil || status != http.StatusOK {
			b.Fatalf("deactivate: %d %v %v", status, out, err)
		}
		answered := time.Now()
		for deadline := answered.Add(feedDeadline); ; time.Sleep(100 * time.Microsecond) {
			if _, err := v.VerifyM2M(ctx, tok, "read"); errors.Is(err, verifier.ErrRevoked) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("client %s: its token verified %v after the deactivation", id, feedDeadline)
			}
		}
		after = append(after, time.Since(answered))
	}
	slices.Sort(after)
	b.ReportMetric(float64(after[len(after)/2])/1e6, "after-deactivate-p50-ms")
	b.ReportMetric(float64(after[len(after)*99/100])/1e6, "after-deactivate-p99-ms")
}
