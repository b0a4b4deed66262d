package main

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchauth/latch/testharness/internal/guestbuild"
)

// providersJSON configures Google, whose endpoints are preset: a start
// needs no request to the provider.
const providersJSON = `[{"provider": "google", "client_id": "client-1.apps.example", "client_secret": "GOCSPX-very-secret"}]`

// writeProviders writes doc to a file of mode perm and returns its path.
func writeProviders(t *testing.T, doc string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "providers.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunOAuthProvidersRefused: a providers file open to group or others,
// one that does not parse, or a -base-url that is not an origin stops
// latch-local before it serves, and no message quotes the file.
func TestRunOAuthProvidersRefused(t *testing.T) {
	tests := []struct {
		name string
		args func(t *testing.T) []string
		want int
		msg  string
	}{
		{
			name: "readable by others",
			args: func(t *testing.T) []string {
				return []string{"-oauth-providers", writeProviders(t, providersJSON, 0o644)}
			},
			want: 1, msg: "open to group or others (mode 0644); run chmod 600",
		},
		{
			name: "readable by the group",
			args: func(t *testing.T) []string {
				return []string{"-oauth-providers", writeProviders(t, providersJSON, 0o640)}
			},
			want: 1, msg: "chmod 600",
		},
		{
			name: "writable by the group",
			args: func(t *testing.T) []string {
				return []string{"-oauth-providers", writeProviders(t, providersJSON, 0o620)}
			},
			want: 1, msg: "chmod 600",
		},
		{
			name: "not JSON",
			args: func(t *testing.T) []string {
				return []string{"-oauth-providers", writeProviders(t, `[{"provider": "google", "client_secret": "GOCSPX-very-secret",`, 0o600)}
			},
			want: 1, msg: "oauth: invalid provider configuration: the providers document is not a JSON list of providers",
		},
		{
			name: "no client id",
			args: func(t *testing.T) []string {
				return []string{"-oauth-providers", writeProviders(t, `[{"provider": "google", "client_secret": "GOCSPX-very-secret"}]`, 0o600)}
			},
			want: 1, msg: "needs a client_id",
		},
		{
			name: "missing",
			args: func(t *testing.T) []string {
				return []string{"-oauth-providers", filepath.Join(t.TempDir(), "none.json")}
			},
			want: 1, msg: "no such file",
		},
		{
			name: "a directory",
			args: func(t *testing.T) []string { return []string{"-oauth-providers", t.TempDir()} },
			want: 1, msg: "not a regular file",
		},
		{
			name: "base url with a path",
			args: func(*testing.T) []string { return []string{"-base-url", "https://auth.example.com/latch"} },
			want: 2, msg: `-base-url "https://auth.example.com/latch" is not an http or https origin`,
		},
		{
			name: "base url without a scheme",
			args: func(*testing.T) []string { return []string{"-base-url", "auth.example.com"} },
			want: 2, msg: "is not an http or https origin",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db"), "-mailbox", "off"}, tt.args(t)...)
			var stdout, stderr bytes.Buffer
			if got := run(args, &stdout, &stderr); got != tt.want {
				t.Fatalf("run = %d, want %d; stderr: %s", got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.msg)
			}
			if strings.Contains(stderr.String()+stdout.String(), "GOCSPX-very-secret") {
				t.Errorf("the client secret was printed: %s", stderr.String())
			}
			if strings.Contains(stdout.String(), "serving") {
				t.Errorf("served anyway: %s", stdout.String())
			}
		})
	}
}

// TestRunOAuthCallback: the callback to register at providers is printed
// with the credentials, with providers or without: under latch-local's
// own address by default, under -base-url when given. With providers,
// their names are printed too (never a secret), and the start URL sends
// the browser to the provider with that callback.
func TestRunOAuthCallback(t *testing.T) {
	guest := currentGuest(t)
	banner := func(t *testing.T, args ...string) (map[string]string, string) {
		t.Helper()
		var stdout syncBuffer
		args = append([]string{"-port", "0", "-db", filepath.Join(t.TempDir(), "latch.db"), "-mailbox", "off", "-wasm", guest}, args...)
		f, stop := startOut(t, &stdout, args...)
		t.Cleanup(func() {
			if code := stop(); code != 0 {
				t.Errorf("run exited %d after SIGINT, want 0", code)
			}
		})
		for _, kv := range regexp.MustCompile(`(?m)^(oauth_callback|oauth_providers): (.+)$`).FindAllStringSubmatch(stdout.String(), -1) {
			f[kv[1]] = kv[2]
		}
		return f, stdout.String()
	}

	t.Run("no providers", func(t *testing.T) {
		f, _ := banner(t)
		if want := f["latch-local: serving"] + "/v1/oauth/callback"; f["oauth_callback"] != want {
			t.Errorf("oauth_callback %q, want %q", f["oauth_callback"], want)
		}
		if _, ok := f["oauth_providers"]; ok {
			t.Errorf("oauth_providers printed without providers: %q", f["oauth_providers"])
		}
	})
	t.Run("base url", func(t *testing.T) {
		f, _ := banner(t, "-base-url", "https://auth.example.com/")
		if f["oauth_callback"] != "https://auth.example.com/v1/oauth/callback" {
			t.Errorf("oauth_callback %q", f["oauth_callback"])
		}
	})
	t.Run("providers", func(t *testing.T) {
		f, out := banner(t, "-oauth-providers", writeProviders(t, providersJSON, 0o600))
		callback := f["latch-local: serving"] + "/v1/oauth/callback"
		if f["oauth_callback"] != callback || f["oauth_providers"] != "google" {
			t.Errorf("banner: oauth_callback %q, oauth_providers %q", f["oauth_callback"], f["oauth_providers"])
		}
		if strings.Contains(out, "GOCSPX-very-secret") {
			t.Error("the client secret was printed")
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(f["latch-local: serving"] + "/v1/public/oauth/google/start?public_token=" + f["public_token:"])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "accounts.google.com" {
			t.Fatalf("start: %d to %q, want 302 to Google", resp.StatusCode, resp.Header.Get("Location"))
		}
		if q := loc.Query(); q.Get("redirect_uri") != callback || q.Get("client_id") != "client-1.apps.example" {
			t.Errorf("authorization URL %q: want redirect_uri %q and the configured client", loc, callback)
		}
	})
}

// currentGuest builds the guest from the module's current sources, as
// testharness does, so that these tests see the engine as it is now
// whatever guest.wasm.gz holds.
func currentGuest(t *testing.T) string {
	t.Helper()
	dir, err := guestbuild.CacheDir("")
	if err != nil {
		t.Fatal(err)
	}
	path, err := guestbuild.Build(t.Context(), filepath.Join(dir, "guest"))
	if err != nil {
		t.Fatal(err)
	}
	return path
}
