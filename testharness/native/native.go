// Package native serves the engine natively — plain Go, no Wasm — over a
// SQLite file with Latch's migrations and a pure-Go RS256 signer, on a
// loopback port. It is the baseline the other hosts are compared with in
// tests and benchmarks.
//
// Native is Latch's implementation, not API, and may change in any
// release. It is not under internal/ because the tests of wasm and
// edge/bench use it as well as testharness.
package native

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver" // the "sqlite3" database/sql driver

	"github.com/latchauth/latch/testharness/internal/feedwait"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/migrations"
	"github.com/latchauth/latch/wasm/oauth"
	"github.com/latchauth/latch/wasm/sdk"
)

// Config describes the engine to serve. The zero value serves a new test
// project with a fresh key, on the real clock.
type Config struct {
	// ProjectID and Secret are the project's credentials; new ones when
	// ProjectID is empty.
	ProjectID, Secret string
	// Signer signs the engine's JWTs; a keys.Signer over a new key when nil.
	Signer engine.Signer
	// Now is the engine's clock; time.Now when nil.
	Now func() time.Time
	// Mailer, MailFrom and RedirectURLs are the engine's mail settings
	// (engine.Config); no mail when Mailer is nil.
	Mailer       engine.Mailer
	MailFrom     string
	RedirectURLs []string
	// SecretBox seals TOTP secrets; a keys.SecretBox over a new key when nil.
	SecretBox engine.SecretBox
	// OAuthProviders is the social login providers document, a JSON list
	// as oauth.ParseProviders reads it; no social login when empty. The
	// engine makes its requests to the providers with
	// oauth.NewHTTPFetcher, and names the server's URL +
	// "/v1/oauth/callback" as its callback. A document that does not
	// parse fails New.
	OAuthProviders []byte
	// PublicToken is the project's public token, which the OAuth start
	// URLs carry; a new one (sdk.NewPublicToken) when empty and there are
	// providers.
	PublicToken string
	// WebAuthnOrigins are the origins passkey ceremonies may come from
	// (engine.Config.WebAuthnOrigins); WebAuthn is off when empty.
	WebAuthnOrigins []string
}

// Server is the engine served natively.
type Server struct {
	// URL is where the API answers, without a trailing slash.
	URL       string
	ProjectID string
	Secret    string
	// PublicToken is Config.PublicToken, or the one made for
	// Config.OAuthProviders.
	PublicToken string
	// DB is the engine's store.
	DB *sql.DB

	srv *httptest.Server
	dir string
}

// New serves an engine as cfg describes, its database in a new temporary
// directory that Close removes.
func New(cfg Config) (s *Server, err error) {
	if cfg.ProjectID == "" {
		p, err := keys.NewProject(rand.Reader, "test")
		if err != nil {
			return nil, err
		}
		cfg.ProjectID, cfg.Secret = p.ID, p.Secret
		if cfg.Signer == nil {
			if cfg.Signer, err = keys.NewSigner(p.Keys); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Signer == nil {
		k, err := keys.Generate(rand.Reader, engine.EnvOf(cfg.ProjectID))
		if err != nil {
			return nil, err
		}
		if cfg.Signer, err = keys.NewSigner([]keys.Key{k}); err != nil {
			return nil, err
		}
	}
	s = &Server{ProjectID: cfg.ProjectID, Secret: cfg.Secret}
	if s.dir, err = os.MkdirTemp("", "latch-native-"); err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	// A failed New returns a nil s: close what was made through a copy.
	made := s
	defer func() {
		if err != nil {
			made.Close()
		}
	}()
	if s.DB, err = OpenDB(filepath.Join(s.dir, "latch.db")); err != nil {
		return nil, err
	}
	if cfg.SecretBox == nil {
		key, err := keys.NewSecretKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if cfg.SecretBox, err = keys.NewSecretBox(key, rand.Reader); err != nil {
			return nil, err
		}
	}
	providers, err := oauth.ParseProviders(cfg.OAuthProviders)
	if err != nil {
		return nil, err
	}
	var fetcher oauth.Fetcher
	if len(providers) > 0 {
		fetcher = oauth.NewHTTPFetcher(nil)
		if cfg.PublicToken == "" {
			cfg.PublicToken = sdk.NewPublicToken(cfg.ProjectID)
		}
	}
	s.PublicToken = cfg.PublicToken
	// Unstarted, so that its address is known before the engine is made.
	s.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + s.srv.Listener.Addr().String()
	waiter := feedwait.New()
	e, err := engine.New(engine.Config{ProjectID: cfg.ProjectID, Secret: cfg.Secret, DB: s.DB, Signer: cfg.Signer, Now: cfg.Now,
		Mailer: cfg.Mailer, MailFrom: cfg.MailFrom, RedirectURLs: cfg.RedirectURLs, SecretBox: cfg.SecretBox,
		Revoked: waiter.Notify, OAuthProviders: providers, Fetcher: fetcher, PublicToken: cfg.PublicToken, BaseURL: base,
		WebAuthnOrigins: cfg.WebAuthnOrigins})
	if err != nil {
		return nil, err
	}
	s.srv.Config.Handler = waiter.Handler(e)
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

// Start is New for a test: the server stops when tb ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Close stops the server and removes its database.
func (s *Server) Close() error {
	if s.srv != nil {
		s.srv.Close()
	}
	if s.DB != nil {
		s.DB.Close()
	}
	return os.RemoveAll(s.dir)
}

// OpenDB opens (creating it if need be) the SQLite database at path, in
// WAL mode with a busy timeout, and applies Latch's migrations.
func OpenDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	if err := migrations.Apply(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("native: %w", err)
	}
	return db, nil
}
