// Package wazerohost is the production half of package testharness: the
// wasip1 build of the engine under wazero, serving Latch's API over HTTP,
// as package testharness documents it. It is what latch-local links; it
// neither builds the guest nor imports testing, so a binary linking it
// stands alone. testharness adds the guest built from the module's sources
// and Start for tests, and names these types as its own.
//
// It is Latch's implementation, not API, and may change in any release.
// Its errors read "testharness: …", the name its users know.
package wazerohost

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/latchauth/latch/testharness/internal/feedwait"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/keys"
	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/oauth"
	"github.com/latchauth/latch/wasm/sdk"
)

// Config configures a Server. The zero value is ready to use with
// testharness.New: a new test project with generated credentials and key,
// an in-memory store, the real clock, the guest built from the module's
// current sources. New here needs the guest given, in Wasm or WasmPath.
type Config struct {
	// ProjectID and Secret are the project credentials; generated when
	// empty ("project-test-<uuid>", "secret-test-<random>").
	ProjectID string
	Secret    string
	// Keys are the signing keys, the first one signing; one is generated
	// when empty. The host keeps them: the guest only sees public keys.
	Keys []keys.Key
	// DBPath is a SQLite file, created and migrated when needed. Empty
	// means a private in-memory database, gone at Close; that needs
	// SQLite's memdb VFS linked, which package testharness does.
	DBPath string
	// Now is the clock the guest sees as its wall clock; time.Now when nil.
	// Server.Advance moves it forward.
	Now func() time.Time
	// Rand is the guest's randomness (WASI random_get); crypto/rand when
	// nil. It must be safe for concurrent use.
	Rand io.Reader
	// Addr is the listen address; "127.0.0.1:0" (a free port) when empty.
	Addr string
	// Instances bounds the guest instances serving requests at once; 4
	// when zero. Each instance serves one request at a time.
	Instances int
	// Wasm is a prebuilt guest: the GOOS=wasip1 -buildmode=c-shared build
	// of wasm/guest. WasmPath names a file holding one instead; Wasm wins
	// when both are set. With neither, testharness.New builds the guest
	// from the module's sources with the Go toolchain and caches it under
	// CacheDir, and New here fails with ErrConfig.
	Wasm     []byte
	WasmPath string
	// CacheDir holds guest builds and wazero's compilation cache;
	// os.UserCacheDir()/latch when empty.
	CacheDir string
	// RequestTimeout bounds each request once its body is read: the wait
	// for a free instance and the guest's work, host calls included. A
	// request that gets no instance in time is answered 503, one whose
	// guest does not finish in time 504, and that instance is closed, never
	// reused. 30 s when zero. A revocation feed read held while it waits
	// (wait > 0) is not cut short by it: the wait, up to 30 s, is spent in
	// the host with no instance, and each time the read is asked of a
	// guest again that ask is bounded by RequestTimeout afresh.
	RequestTimeout time.Duration
	// Stderr receives the guest's standard error (one engine log line per
	// failed request, crash reports), net/http's error log and the host's
	// reason for every 5xx it answers itself, each line clipped to a few
	// KiB. Discarded when nil.
	Stderr io.Writer

	// Mailer is the host's mail transport, for example a *mail.SMTP or a
	// *mail.Webhook (package wasm/mail): magic links, one-time codes and
	// reset links go out through it. The guest's engine asks the host to
	// send each message; the transport and its credentials stay in the
	// host. Without one the email endpoints answer 503
	// email_delivery_unavailable.
	Mailer engine.Mailer
	// MailFrom is the sender, an address or "Name <address>"; required
	// with a Mailer.
	MailFrom string
	// ProjectName names the project in mail; "Latch" when empty.
	ProjectName string
	// RedirectURLs are the URLs mailed links may lead to, absolute http or
	// https; the first is the default when a request names none.
	RedirectURLs []string
	// MailTemplates overrides the built-in messages by kind (the
	// engine.Mail… constants); a field left empty keeps the built-in one.
	// A template that does not parse, or an unknown kind, fails New.
	MailTemplates map[string]engine.MailTemplate

	// SecretKey is the host's secret box key, keys.SecretKeySize (32)
	// random bytes, as keys.NewSecretKey makes; a fresh one when empty,
	// so every Server has a box. The engine seals TOTP secrets and
	// recovery codes with it before they reach the store, so that a copy
	// of the database alone yields none of them. The key stays in the
	// host: the guest asks the host to seal and open and never sees it.
	// A server on a file store (DBPath) must be given the same key on
	// every start, or the TOTPs enrolled before stop working; keep it
	// apart from the database and as private as the signing keys. A key
	// of another size fails New.
	SecretKey []byte

	// LoginPage, when set, also serves Latch's hosted login page
	// (package wasm/loginpage) from the same address. Its API and project
	// credentials are the server's own; its URL is the server's URL +
	// "/login" when empty; the addresses that lead back to the page
	// (mailed links, social login's return) are added to RedirectURLs;
	// with OAuthProviders it offers every provider, unless it names its
	// own, with the server's PublicToken; its WebAuthnOrigins are the
	// server's unless it names its own (so it offers passkeys when its
	// URL's origin is one of them, e.g. URL http://localhost:<port>/login
	// with that origin in WebAuthnOrigins). Its other fields are as
	// loginpage.Config describes; an invalid one fails New.
	LoginPage *loginpage.Config

	// PublicToken, when set, also serves the surface Stytch's frontend
	// SDKs call, /sdk/v1/... (package wasm/sdk), from the same address,
	// to pages on SDKOrigins: public-token-test-<uuid> for a test project
	// (sdk.NewPublicToken). With SDKOrigins and no PublicToken, one is
	// generated; Server.PublicToken says which. The surface calls the API
	// with the server's own credentials, names the project ProjectName,
	// takes the client's address as the login page does (LoginPage's
	// ClientIP when set, else the connection's), runs on the server's
	// clock, and logs each call it refuses to Stderr. A token not of the
	// project's environment or an origin other than scheme://host[:port]
	// fails New.
	PublicToken string
	SDKOrigins  []string

	// OAuthProviders is the social login providers document: a JSON list
	// of providers as oauth.ParseProviders reads it (README.md, "Social
	// login"), client secrets included; social login is off when empty.
	// The guest's engine talks to the providers through the host, which
	// makes each request with oauth.NewHTTPFetcher. Providers need the
	// project's public token, which their start URLs carry: PublicToken,
	// or one generated as for SDKOrigins (Server.PublicToken says which).
	// A document oauth.ParseProviders refuses fails New.
	OAuthProviders []byte
	// BaseURL is where browsers reach the server, scheme://host[:port]
	// with no path; the OAuth callback to register at providers is
	// BaseURL + "/v1/oauth/callback". The server's URL when empty. The
	// engine refuses one that is not such an origin when OAuthProviders
	// is set, and New fails with ErrConfig.
	BaseURL string

	// WebAuthnOrigins are the origins passkey and security key ceremonies
	// may come from (engine.Config.WebAuthnOrigins): https, or http on a
	// loopback host; WebAuthn is off when empty. An origin the engine
	// refuses fails New with ErrConfig.
	WebAuthnOrigins []string

	// Knobs for this package's tests and benchmarks only.
	synchronous string                                    // PRAGMA synchronous of a file store; "full" when empty
	beforeCall  func(ctx context.Context, mod api.Module) // runs before the host answers each guest call
}

// Server is a running Latch: the wasip1 engine under wazero, serving the
// API over HTTP on loopback, like httptest.Server.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234", no trailing slash.
	URL string
	// ProjectID and Secret are the project's Basic auth credentials.
	ProjectID string
	Secret    string
	// LoginURL is the hosted login page's URL (Config.LoginPage), or ""
	// when the server has none.
	LoginURL string
	// PublicToken is the public token of the SDK surface and of the
	// OAuth start URLs (Config.PublicToken, or the one generated for
	// Config.SDKOrigins or Config.OAuthProviders), or "" when the server
	// has none.
	PublicToken string

	now     func() time.Time
	offset  atomic.Int64 // nanoseconds added to now by Advance
	stderr  io.Writer
	timeout time.Duration
	mailer  engine.Mailer
	mail    wire.Config // the mail fields of the guest's Config frame
	box     *keys.SecretBox
	fetcher oauth.Fetcher    // makes the guest's 'F' requests; nil without OAuth providers
	oauth   wire.Config      // the OAuth fields of the guest's Config frame
	waiter  *feedwait.Waiter // holds the feed's waiting reads; woken by the guest's 'V' frames
	handler http.Handler     // serveGuest behind waiter

	db    *sql.DB
	cache wazero.CompilationCache
	host  *guestHost
	http  *http.Server
	done  chan error

	mu      sync.RWMutex
	keys    []keys.Key
	signers map[string]*keys.Signer
	config  []byte // the guest's Config frame
	gen     uint64 // bumped when config changes

	closeOnce sync.Once
	closeErr  error
}

// New starts a Server. Close it when done.
func New(cfg Config) (*Server, error) {
	ctx := context.Background()
	if err := defaults(&cfg); err != nil {
		return nil, err
	}
	if len(cfg.Wasm) == 0 && cfg.WasmPath == "" {
		return nil, fmt.Errorf("%w: no guest (Wasm or WasmPath)", ErrConfig)
	}
	// Listening first gives the URL, which the login page's default URL
	// and mailed links are built from.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("testharness: listen: %w", err)
	}
	served := false
	defer func() {
		if !served {
			ln.Close()
		}
	}()
	base := "http://" + ln.Addr().String()
	login, err := loginPageSettings(&cfg, base)
	if err != nil {
		return nil, err
	}
	mailCfg, err := mailSettings(&cfg)
	if err != nil {
		return nil, err
	}
	box, err := secretBox(&cfg)
	if err != nil {
		return nil, err
	}
	fetcher, err := oauthSettings(&cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		ProjectID: cfg.ProjectID, Secret: cfg.Secret, now: cfg.Now, stderr: cfg.Stderr, timeout: cfg.RequestTimeout,
		mailer: cfg.Mailer, mail: mailCfg, box: box, fetcher: fetcher, done: make(chan error, 1),
		waiter: feedwait.New(),
	}
	s.URL = base
	s.handler = s.waiter.Handler(http.HandlerFunc(s.serveGuest))
	// The SDK surface in front of the API, the login page in front of
	// both: the page's own calls and every other request pass through.
	if sc := sdkSettings(&cfg); sc != nil {
		s.PublicToken = sc.PublicToken
		sc.API, sc.ProjectID, sc.Secret, sc.Now = s.handler, s.ProjectID, s.Secret, s.Now
		if s.handler, err = sdk.New(*sc); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if s.PublicToken == "" && fetcher != nil {
		// The OAuth start URLs carry a public token, SDK surface or not.
		s.PublicToken = sdk.NewPublicToken(s.ProjectID)
	}
	s.oauth = wire.Config{Fetch: fetcher != nil, OAuthProviders: cfg.OAuthProviders, PublicToken: s.PublicToken, BaseURL: cfg.BaseURL,
		WebAuthnOrigins: slices.Clone(cfg.WebAuthnOrigins)}
	if s.oauth.BaseURL == "" {
		s.oauth.BaseURL = base
	}
	if login != nil {
		s.LoginURL = login.URL
		login.API, login.ProjectID, login.Secret = s.handler, s.ProjectID, s.Secret
		offerProviders(login, cfg.OAuthProviders, s.PublicToken)
		if s.handler, err = loginpage.New(*login); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if err := s.SetKeys(cfg.Keys); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if s.db, err = openDB(ctx, cfg.DBPath, cfg.synchronous); err != nil {
		return nil, err
	}
	wasm := cfg.Wasm
	if len(wasm) == 0 {
		if wasm, err = os.ReadFile(cfg.WasmPath); err != nil {
			return nil, fmt.Errorf("testharness: read guest: %w", err)
		}
	}
	if s.cache, err = wazero.NewCompilationCacheWithDir(filepath.Join(cfg.CacheDir, "wazero")); err != nil {
		return nil, fmt.Errorf("testharness: compilation cache: %w", err)
	}
	s.host, err = newGuestHost(ctx, hostOptions{
		wasm: wasm, cache: s.cache, instances: cfg.Instances,
		walltime: s.walltime, rand: cfg.Rand, stderr: cfg.Stderr,
		dispatch: s.dispatch, config: s.guestConfig, beforeCall: cfg.beforeCall,
	})
	if err != nil {
		return nil, err
	}
	// One instance up front, so that a guest that cannot start or refuses
	// its config fails New rather than the first request. A refusal is
	// the engine finding the config invalid (a redirect URL, a template).
	inst, err := s.host.get(ctx)
	if err != nil {
		var refused *wire.RemoteError
		if errors.As(err, &refused) {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return nil, err
	}
	s.host.put(inst)
	s.serve(ln)
	served, ok = true, true
	return s, nil
}

func defaults(cfg *Config) error {
	var err error
	if cfg.ProjectID == "" {
		if cfg.ProjectID, err = keys.NewProjectID(rand.Reader, "test"); err != nil {
			return fmt.Errorf("testharness: %w", err)
		}
	}
	if cfg.Secret == "" {
		if cfg.Secret, err = keys.NewSecret(rand.Reader, engine.EnvOf(cfg.ProjectID)); err != nil {
			return fmt.Errorf("testharness: %w", err)
		}
	}
	if len(cfg.Keys) == 0 {
		k, err := keys.Generate(rand.Reader, engine.EnvOf(cfg.ProjectID))
		if err != nil {
			return fmt.Errorf("testharness: %w", err)
		}
		cfg.Keys = []keys.Key{k}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	} else {
		cfg.Stderr = &lockedWriter{w: cfg.Stderr}
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	switch {
	case cfg.RequestTimeout < 0:
		return fmt.Errorf("%w: RequestTimeout %v", ErrConfig, cfg.RequestTimeout)
	case cfg.RequestTimeout == 0:
		cfg.RequestTimeout = 30 * time.Second
	}
	switch {
	case cfg.Instances < 0:
		return fmt.Errorf("%w: Instances %d", ErrConfig, cfg.Instances)
	case cfg.Instances == 0:
		cfg.Instances = 4
	}
	if cfg.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("%w: no CacheDir and no user cache dir: %w", ErrConfig, err)
		}
		cfg.CacheDir = filepath.Join(dir, "latch")
	}
	return nil
}

const (
	// maxHeaderBytes bounds the request line and headers together; well
	// above maxTarget, so that a long target gets the Stytch-shaped 414.
	maxHeaderBytes = 128 << 10
	// readTimeout bounds reading a whole request, body included.
	readTimeout = 30 * time.Second
)

// serve serves HTTP on ln in the background.
func (s *Server) serve(ln net.Listener) {
	s.http = &http.Server{
		Handler: s,
		// A request line and headers over maxHeaderBytes get net/http's
		// own 431; a target over maxTarget within them gets our 414.
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		// Reading, a feed read's wait, serving (bounded by the request
		// timeout) and writing.
		WriteTimeout: readTimeout + feedwait.MaxWait + s.timeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     log.New(&clipWriter{w: s.stderr, max: maxLogLine}, "testharness: ", 0),
	}
	go func() { s.done <- s.http.Serve(ln) }()
}

// Close stops serving, closes the guest instances and the store. A
// request already inside a guest is let finish first (each is bounded by
// Config.RequestTimeout), though its connection is closed; one that
// reaches ServeHTTP after Close has begun is answered 503. Calling it
// again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx := context.Background()
		var errs []error
		if s.http != nil {
			errs = append(errs, s.http.Close())
			if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		if s.host != nil {
			errs = append(errs, s.host.close(ctx))
		}
		if s.cache != nil {
			errs = append(errs, s.cache.Close(ctx))
		}
		if s.db != nil {
			errs = append(errs, s.db.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// JWKSURL is the project's JWKS endpoint, which needs no credentials.
func (s *Server) JWKSURL() string { return s.URL + "/v1/sessions/jwks/" + s.ProjectID }

// Now returns the time the guest sees: Config.Now plus every Advance.
func (s *Server) Now() time.Time { return s.now().Add(time.Duration(s.offset.Load())) }

// Advance moves the guest's clock forward by d.
func (s *Server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

func (s *Server) walltime() (int64, int32) {
	t := s.Now()
	return t.Unix(), int32(t.Nanosecond())
}

// Keys returns the signing keys, the one that signs first.
func (s *Server) Keys() []keys.Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.keys)
}

// SetKeys replaces the signing keys: the first unretired one signs from
// now on; retired ones check the JWTs they signed and stay in the JWKS
// until those have expired. Requests already running finish with the keys
// they started with.
func (s *Server) SetKeys(ks []keys.Key) error {
	signing := slices.IndexFunc(ks, func(k keys.Key) bool { return k.RetiredAt == 0 })
	if signing < 0 {
		return fmt.Errorf("%w: %w", ErrConfig, keys.ErrNoKeys)
	}
	signers := make(map[string]*keys.Signer, len(ks))
	public := make([]wire.PublicKey, 0, len(ks))
	for i, k := range ks {
		if k.KID == "" || k.Private == nil {
			return fmt.Errorf("%w: key %d has no kid or no private key", ErrConfig, i)
		}
		if _, dup := signers[k.KID]; dup {
			return fmt.Errorf("%w: duplicate kid %q", ErrConfig, k.KID)
		}
		// The host signs with whichever key the guest names; only the
		// guest's choice of KeyID follows retirement.
		active := k
		active.RetiredAt = 0
		signer, err := keys.NewSigner([]keys.Key{active})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		signers[k.KID] = signer
		p := keys.Public(k)
		public = append(public, wire.PublicKey{KID: p.KID, N: p.N, E: p.E, RetiredAt: p.RetiredAt})
	}
	c := s.mail
	c.ProjectID, c.Secret, c.KeyID, c.PublicKeys = s.ProjectID, s.Secret, ks[signing].KID, public
	c.SecretBox = s.box != nil
	c.Fetch, c.OAuthProviders, c.PublicToken, c.BaseURL = s.oauth.Fetch, s.oauth.OAuthProviders, s.oauth.PublicToken, s.oauth.BaseURL
	c.WebAuthnOrigins = s.oauth.WebAuthnOrigins
	frame := wire.AppendConfig(nil, &c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.signers, s.config = slices.Clone(ks), signers, frame
	s.gen++
	return nil
}

// RotateKey generates a key that signs from now on and retires the keys
// that signed until now (keys.Rotate at the guest's clock): they stay in
// the JWKS until every JWT they signed has expired, and an expired JWT
// they signed for a live session still authenticates. It returns the new
// key.
func (s *Server) RotateKey() (keys.Key, error) {
	ks, err := keys.Rotate(s.Keys(), rand.Reader, engine.EnvOf(s.ProjectID), s.Now().Unix(), 0)
	if err != nil {
		return keys.Key{}, fmt.Errorf("testharness: %w", err)
	}
	return ks[0], s.SetKeys(ks)
}

func (s *Server) guestConfig() ([]byte, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.config, s.gen
}

// lockedWriter serializes writes from the guest instances and the host.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
