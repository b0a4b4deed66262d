//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/latchauth/latch/edge/internal/e2e"
	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/verifier"
)

// The revocation feed for M2M clients: each client deactivated (PUT
// status inactive) one at a time while the readers, verifiers with the
// feed on, hold a token of it; timed until every reader's VerifyM2M of
// the token returns ErrRevoked.

// m2mResult is one host's M2M run.
type m2mResult struct {
	host       string
	fromAnswer []time.Duration // deactivation answered → last reader refuses
	fromSend   []time.Duration // deactivation sent → last reader refuses
	accepted   int             // tokens of deactivated clients a verifier still accepted after the run
}

// mintM2M creates a client with one scope on t and mints its token through
// the token endpoint, the credentials in the form body.
func mintM2M(client *http.Client, t *target) (id, token string, err error) {
	c, err := post(client, t, "/v1/m2m/clients", map[string]any{"client_name": "bench", "scopes": []string{"read:bench"}})
	if err != nil {
		return "", "", err
	}
	m, _ := c["m2m_client"].(map[string]any)
	id, _ = m["client_id"].(string)
	secret, _ := m["client_secret"].(string)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	res, err := client.Post(t.base+"/v1/public/"+t.auth[0]+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", "", fmt.Errorf("token endpoint: status %d: %v", res.StatusCode, err)
	}
	return id, out.AccessToken, nil
}

func (rc *revocationConfig) measureM2M(host string, tg e2e.Target) (m2mResult, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	tt := newTarget(host, tg)
	type minted struct{ id, token string }
	clients := make([]minted, rc.clients)
	for i := range clients {
		var err error
		if clients[i].id, clients[i].token, err = mintM2M(client, tt); err != nil {
			return m2mResult{}, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	verifiers := make([]*verifier.Verifier, rc.readers)
	for i := range verifiers {
		v, err := verifier.New(ctx, verifier.Config{ProjectID: tg.ProjectID, BaseURL: tg.URL, Secret: tg.Secret,
			HTTPClient: &http.Client{Timeout: 45 * time.Second, Transport: &http.Transport{}}})
		if err != nil {
			return m2mResult{}, fmt.Errorf("verifier: %w", err)
		}
		defer v.Close()
		verifiers[i] = v
	}
	// Every token verifies before the first deactivation: the feeds are up.
	for _, m := range clients {
		for _, v := range verifiers {
			if err := eventually(ctx, rc.timeout, func() bool { _, err := v.VerifyM2M(ctx, m.token, "read:bench"); return err == nil }); err != nil {
				return m2mResult{}, fmt.Errorf("client %s: its token does not verify before its deactivation", m.id)
			}
		}
	}
	res := m2mResult{host: host}
	deactivate := map[string]any{"status": "inactive"}
	api := apitest.Client{URL: tt.base, ProjectID: tt.auth[0], Secret: tt.auth[1], HTTP: client}
	for _, m := range clients {
		sent := time.Now()
		status, out, err := api.Do(ctx, http.MethodPut, "/v1/m2m/clients/"+m.id, deactivate)
		if err != nil || status != http.StatusOK {
			return res, fmt.Errorf("deactivate %s: %d %v %v", m.id, status, out, err)
		}
		answered := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last time.Time
		var failed error
		for _, v := range verifiers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := eventually(ctx, rc.timeout, func() bool {
					_, err := v.VerifyM2M(ctx, m.token, "read:bench")
					return errors.Is(err, verifier.ErrRevoked)
				})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = fmt.Errorf("deactivation of %s not seen by a verifier in %v", m.id, rc.timeout)
				}
				if now := time.Now(); now.After(last) {
					last = now
				}
			}()
		}
		wg.Wait()
		if failed != nil {
			return res, failed
		}
		res.fromAnswer = append(res.fromAnswer, max(0, last.Sub(answered)))
		res.fromSend = append(res.fromSend, last.Sub(sent))
	}
	for _, m := range clients {
		for _, v := range verifiers {
			if _, err := v.VerifyM2M(ctx, m.token, "read:bench"); !errors.Is(err, verifier.ErrRevoked) {
				res.accepted++
			}
		}
	}
	return res, nil
}

// reportM2M prints the M2M table of results.
func (rc *revocationConfig) reportM2M(w io.Writer, results []m2mResult) error {
	fmt.Fprintf(w, "## M2M revocation: deactivate to every VerifyM2M\n\n")
	fmt.Fprintf(w, "%d M2M clients, each with a token minted through the token endpoint, deactivated one at a time (PUT /v1/m2m/clients/{id} status inactive) over loopback; the same %d verifiers' VerifyM2M of the client's token is polled every 0.5 ms until every one returns ErrRevoked; the next deactivation follows once all do. Goal: p99 ≤ 1 s from the deactivation's answer.\n\n", rc.clients, rc.readers)
	fmt.Fprintf(w, "| host | from | p50 | p99 | max |\n|---|---|---|---|---|\n")
	for _, r := range results {
		for _, row := range []struct {
			from string
			ds   []time.Duration
		}{{from: "deactivation answered", ds: r.fromAnswer}, {from: "deactivation sent", ds: r.fromSend}} {
			s := summarize(row.ds)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.host, row.from, ms(s.p50), ms(s.p99), ms(slicesMax(row.ds)))
		}
	}
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "%s: %d tokens of deactivated clients accepted by a verifier after the run (must be 0).\n", r.host, r.accepted)
		if r.accepted > 0 {
			return fmt.Errorf("%s: %d tokens of deactivated clients still accepted", r.host, r.accepted)
		}
	}
	fmt.Fprintln(w)
	return nil
}
