package wire

import (
	"fmt"
	"net/http"
	"slices"
)

// Frame kinds.
const (
	kindConfig    = 'C'
	kindRequest   = 'Q'
	kindResponse  = 'R'
	kindStmt      = 'S'
	kindResult    = 'T'
	kindSign      = 'G'
	kindSignature = 'g'
	kindMail      = 'M'
	kindSeal      = 'B'
	kindSealed    = 'b'
	kindOpen      = 'O'
	kindOpened    = 'o'
	kindRevoked   = 'V'
	kindFetch     = 'F'
	kindFetched   = 'f'
	kindOK        = 'K'
	kindError     = 'E'
)

// PublicKey is a public RSA key as JWK members (unpadded base64url), and
// when it stopped signing (Unix seconds; 0 while it signs or may sign).
type PublicKey struct {
	KID, N, E string
	RetiredAt int64
}

// Config is what the guest needs to build its engine. It carries no
// private key, no mail transport secret and no secret box key: the guest
// signs, sends mail and seals through the host (see package doc).
type Config struct {
	ProjectID  string
	Secret     string
	KeyID      string
	PublicKeys []PublicKey

	// Mail says whether the host has a mail transport; the guest's engine
	// sends through the host ('M' frames) only when it does.
	Mail bool
	// MailFrom, ProjectName, RedirectURLs and MailTemplates are the
	// engine's mail settings (engine.Config), templates in kind order.
	MailFrom      string
	ProjectName   string
	RedirectURLs  []string
	MailTemplates []MailTemplate

	// SecretBox says whether the host holds a secret box key; the guest's
	// engine seals and opens through the host ('B' and 'O' frames) only
	// when it does.
	SecretBox bool

	// Fetch says whether the host makes outbound HTTP requests; the
	// guest's engine fetches through the host ('F' frames) only when it
	// does.
	Fetch bool
	// OAuthProviders is the providers document as oauth.ParseProviders
	// reads it (JSON, client secrets included), or empty for none.
	// PublicToken and BaseURL are the engine's settings of those names
	// (engine.Config).
	OAuthProviders []byte
	PublicToken    string
	BaseURL        string

	// WebAuthnOrigins are the engine's setting of that name.
	WebAuthnOrigins []string
}

// MailTemplate overrides the built-in message of one kind; an empty field
// keeps the built-in one.
type MailTemplate struct {
	Kind, Subject, Text, HTML string
}

// AppendConfig appends c as a 'C' frame.
func AppendConfig(b []byte, c *Config) []byte {
	b = append(b, kindConfig)
	b = appendString(b, c.ProjectID)
	b = appendString(b, c.Secret)
	b = appendString(b, c.KeyID)
	b = appendU32(b, uint32(len(c.PublicKeys)))
	for _, k := range c.PublicKeys {
		b = appendString(appendString(appendString(b, k.KID), k.N), k.E)
		b = appendU64(b, uint64(k.RetiredAt))
	}
	b = append(b, flag(c.Mail))
	b = appendString(appendString(b, c.MailFrom), c.ProjectName)
	b = appendU32(b, uint32(len(c.RedirectURLs)))
	for _, u := range c.RedirectURLs {
		b = appendString(b, u)
	}
	b = appendU32(b, uint32(len(c.MailTemplates)))
	for _, t := range c.MailTemplates {
		b = appendString(appendString(appendString(appendString(b, t.Kind), t.Subject), t.Text), t.HTML)
	}
	b = append(b, flag(c.SecretBox), flag(c.Fetch))
	b = appendBytes(b, c.OAuthProviders)
	b = appendString(appendString(b, c.PublicToken), c.BaseURL)
	b = appendU32(b, uint32(len(c.WebAuthnOrigins)))
	for _, o := range c.WebAuthnOrigins {
		b = appendString(b, o)
	}
	return b
}

func flag(on bool) byte {
	if on {
		return 1
	}
	return 0
}

// ParseConfig decodes a 'C' frame. A template kind may appear once.
func ParseConfig(frame []byte) (*Config, error) {
	r := newReader(frame, kindConfig)
	c := &Config{ProjectID: r.text("project id"), Secret: r.text("secret"), KeyID: r.text("key id")}
	n := r.count(maxKeys, 20, "keys")
	for range n {
		c.PublicKeys = append(c.PublicKeys, PublicKey{KID: r.text("kid"), N: r.text("n"), E: r.text("e"), RetiredAt: int64(r.u64("retired at"))})
	}
	c.Mail = r.flag("mail")
	c.MailFrom, c.ProjectName = r.text("mail from"), r.text("project name")
	n = r.count(MaxRedirectURLs, 4, "redirect urls")
	for range n {
		c.RedirectURLs = append(c.RedirectURLs, r.text("redirect url"))
	}
	n = r.count(MaxTemplates, 16, "mail templates")
	for range n {
		t := MailTemplate{Kind: r.text("template kind"), Subject: r.text("template subject"), Text: r.text("template text"), HTML: r.text("template html")}
		if r.err == nil && slices.ContainsFunc(c.MailTemplates, func(o MailTemplate) bool { return o.Kind == t.Kind }) {
			r.fail(fmt.Errorf("%w: mail template %q twice", ErrFrame, t.Kind))
		}
		c.MailTemplates = append(c.MailTemplates, t)
	}
	c.SecretBox = r.flag("secret box")
	c.Fetch = r.flag("fetch")
	if doc := r.bytes(maxOAuthProviders, "oauth providers"); len(doc) > 0 {
		c.OAuthProviders = slices.Clone(doc)
	}
	c.PublicToken, c.BaseURL = r.text("public token"), r.text("base url")
	n = r.count(MaxWebAuthnOrigins, 4, "webauthn origins")
	for range n {
		c.WebAuthnOrigins = append(c.WebAuthnOrigins, r.text("webauthn origin"))
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: config: %w", err)
	}
	return c, nil
}

// Request is an HTTP request as the host hands it to the guest.
type Request struct {
	Method     string
	Target     string // path and query, e.g. "/v1/sessions?user_id=…"
	RemoteAddr string
	Header     http.Header
	Body       []byte
}

// Response is what the engine wrote.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func appendHeader(b []byte, h http.Header) []byte {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	b = appendU32(b, uint32(n))
	for _, name := range slices.Sorted(mapKeys(h)) {
		for _, v := range h[name] {
			b = appendString(appendString(b, name), v)
		}
	}
	return b
}

func mapKeys(h http.Header) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}
}

func (r *reader) header() http.Header {
	n := r.count(MaxHeaders, 8, "headers")
	h := make(http.Header, n)
	for range n {
		name, v := r.text("header name"), r.text("header value")
		h[name] = append(h[name], v)
	}
	return h
}

// AppendRequest appends q as a 'Q' frame.
func AppendRequest(b []byte, q *Request) []byte {
	b = append(b, kindRequest)
	b = appendString(b, q.Method)
	b = appendString(b, q.Target)
	b = appendString(b, q.RemoteAddr)
	b = appendHeader(b, q.Header)
	return appendBytes(b, q.Body)
}

// ParseRequest decodes a 'Q' frame. Header and Body are copies.
func ParseRequest(frame []byte) (*Request, error) {
	r := newReader(frame, kindRequest)
	q := &Request{Method: r.text("method"), Target: r.text("target"), RemoteAddr: r.text("remote addr")}
	q.Header = r.header()
	q.Body = slices.Clone(r.bytes(MaxBody, "body"))
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: request: %w", err)
	}
	return q, nil
}

// AppendResponse appends p as an 'R' frame.
func AppendResponse(b []byte, p *Response) []byte {
	b = append(b, kindResponse)
	b = appendU32(b, uint32(p.Status))
	b = appendHeader(b, p.Header)
	return appendBytes(b, p.Body)
}

// ParseResponse decodes an 'R' frame, or returns the *RemoteError of an 'E'
// frame.
func ParseResponse(frame []byte) (*Response, error) {
	r := newReader(frame, kindResponse)
	p := &Response{Status: int(r.u32("status"))}
	p.Header = r.header()
	p.Body = slices.Clone(r.bytes(MaxFrame, "body"))
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: response: %w", err)
	}
	if p.Status < 100 || p.Status > 999 {
		return nil, fmt.Errorf("wire: response: %w: status %d", ErrFrame, p.Status)
	}
	return p, nil
}

// Stmt is one SQL statement the guest asks the host to run.
type Stmt struct {
	Query bool // rows wanted (Query) or only a result (Exec)
	SQL   string
	Args  []any // nil, int64, float64, string or []byte
}

// AppendStmt appends s as an 'S' frame. It fails on an argument of another
// type.
func AppendStmt(b []byte, s *Stmt) ([]byte, error) {
	op := byte('x')
	if s.Query {
		op = 'q'
	}
	b = append(b, kindStmt, op)
	b = appendString(b, s.SQL)
	b = appendU32(b, uint32(len(s.Args)))
	for i, a := range s.Args {
		var err error
		if b, err = appendValue(b, a); err != nil {
			return nil, fmt.Errorf("wire: stmt argument %d: %w", i+1, err)
		}
	}
	return b, nil
}

// ParseStmt decodes an 'S' frame.
func ParseStmt(frame []byte) (*Stmt, error) {
	r := newReader(frame, kindStmt)
	s := &Stmt{}
	switch op := r.u8("op"); op {
	case 'q':
		s.Query = true
	case 'x':
	default:
		if r.err == nil {
			r.fail(fmt.Errorf("%w: op %q", ErrFrame, op))
		}
	}
	s.SQL = r.text("sql")
	n := r.count(maxArgs, 1, "args")
	for range n {
		s.Args = append(s.Args, r.value())
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: stmt: %w", err)
	}
	return s, nil
}

// Result is the outcome of a Stmt: rows for a query, counts for an exec.
type Result struct {
	Columns      []string
	Rows         [][]any // each row has len(Columns) values
	RowsAffected int64
	LastInsertID int64
}

// AppendResult appends t as a 'T' frame. Every row must have one value of
// a supported type per column.
func AppendResult(b []byte, t *Result) ([]byte, error) {
	b = append(b, kindResult)
	b = appendU32(b, uint32(len(t.Columns)))
	for _, c := range t.Columns {
		b = appendString(b, c)
	}
	if len(t.Columns) == 0 && len(t.Rows) > 0 {
		return nil, fmt.Errorf("wire: result: %w: rows without columns", ErrFrame)
	}
	b = appendU32(b, uint32(len(t.Rows)))
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return nil, fmt.Errorf("wire: result row %d: %w: %d values for %d columns", i, ErrFrame, len(row), len(t.Columns))
		}
		for _, v := range row {
			var err error
			if b, err = appendValue(b, v); err != nil {
				return nil, fmt.Errorf("wire: result row %d: %w", i, err)
			}
		}
	}
	b = appendU64(b, uint64(t.RowsAffected))
	return appendU64(b, uint64(t.LastInsertID)), nil
}

// ParseResult decodes a 'T' frame, or returns the *RemoteError of an 'E'
// frame.
func ParseResult(frame []byte) (*Result, error) {
	r := newReader(frame, kindResult)
	t := &Result{}
	ncol := r.count(maxColumns, 4, "columns")
	for range ncol {
		t.Columns = append(t.Columns, r.text("column"))
	}
	// A value takes at least one byte; a row without columns is refused by
	// AppendResult, so max(ncol, 1) bounds the count by the bytes left.
	nrow := r.count(MaxFrame, max(ncol, 1), "rows")
	if ncol == 0 && nrow > 0 {
		r.fail(fmt.Errorf("%w: rows without columns", ErrFrame))
	}
	for range nrow {
		row := make([]any, ncol)
		for j := range row {
			row[j] = r.value()
		}
		t.Rows = append(t.Rows, row)
		if r.err != nil {
			break
		}
	}
	t.RowsAffected = int64(r.u64("rows affected"))
	t.LastInsertID = int64(r.u64("last insert id"))
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: result: %w", err)
	}
	return t, nil
}

// AppendSign appends a 'G' frame: sign input with the key named kid.
func AppendSign(b []byte, kid string, input []byte) []byte {
	return appendBytes(appendString(append(b, kindSign), kid), input)
}

// ParseSign decodes a 'G' frame.
func ParseSign(frame []byte) (kid string, input []byte, err error) {
	r := newReader(frame, kindSign)
	kid = r.text("kid")
	input = slices.Clone(r.bytes(MaxFrame, "input"))
	if err := r.end(); err != nil {
		return "", nil, fmt.Errorf("wire: sign: %w", err)
	}
	return kid, input, nil
}

// AppendSignature appends a 'g' frame.
func AppendSignature(b, sig []byte) []byte { return appendBytes(append(b, kindSignature), sig) }

// ParseSignature decodes a 'g' frame, or returns the *RemoteError of an 'E'
// frame.
func ParseSignature(frame []byte) ([]byte, error) {
	r := newReader(frame, kindSignature)
	sig := slices.Clone(r.bytes(MaxText, "signature"))
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: signature: %w", err)
	}
	return sig, nil
}

// AppendOK appends a 'K' frame.
func AppendOK(b []byte) []byte { return append(b, kindOK) }

// ParseOK decodes a 'K' frame, or returns the *RemoteError of an 'E' frame.
func ParseOK(frame []byte) error {
	if err := newReader(frame, kindOK).end(); err != nil {
		return fmt.Errorf("wire: ok: %w", err)
	}
	return nil
}

// AppendError appends an 'E' frame carrying msg.
func AppendError(b []byte, msg string) []byte { return appendString(append(b, kindError), msg) }

// Kind names the frame kind, for hosts that dispatch on it: "stmt",
// "sign", "mail", "seal", "open", "revoked", "fetch", or "" for anything
// else.
func Kind(frame []byte) string {
	if len(frame) == 0 {
		return ""
	}
	switch frame[0] {
	case kindStmt:
		return "stmt"
	case kindSign:
		return "sign"
	case kindMail:
		return "mail"
	case kindSeal:
		return "seal"
	case kindOpen:
		return "open"
	case kindRevoked:
		return "revoked"
	case kindFetch:
		return "fetch"
	}
	return ""
}
