package loginpage

import (
	"html"
	"net/http"
	"strconv"
	"strings"
)

// The page is written with html.EscapeString rather than html/template,
// which would add text/template and much of reflect to the Worker's Wasm.
// Every value from outside the page's own text goes through esc (element
// text and attribute values alike, always quoted). See RATIONALE.md, "Why
// is the login page written without html/template?".
var esc = html.EscapeString

// view is one rendered page.
type view struct {
	title   string
	status  string // a notice announced politely (role="status")
	alert   string // an error announced at once (role="alert")
	invalid string // the id of the field the alert is about: focused, aria-invalid
	body    []string
}

// field is one input.
type field struct {
	id, name, label, kind, value, autocomplete, inputmode, pattern, hint string
	maxlength                                                            int
}

// form is one form posting to the page.
type form struct {
	action   string
	csrf     string
	returnTo string
	hidden   [][2]string
	fields   []field
	buttons  [][3]string // id, value of name="method" (or ""), text
	noFocus  bool        // no autofocus on the first field (another form has it)
}

// write answers with v as a whole HTML document, with the page's security
// headers.
func (p *page) write(w http.ResponseWriter, status int, v view) {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8">`)
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	b.WriteString(`<meta name="referrer" content="same-origin">`)
	b.WriteString(`<title>` + esc(v.title) + ` · ` + esc(p.Name) + `</title>`)
	b.WriteString(`<link rel="stylesheet" href="` + esc(p.path+pathStyle) + `"></head><body><main>`)
	if p.LogoURL != "" {
		b.WriteString(`<img class="logo" src="` + esc(p.LogoURL) + `" alt="` + esc(p.Name) + `">`)
	} else {
		b.WriteString(`<p class="name">` + esc(p.Name) + `</p>`)
	}
	b.WriteString(`<h1>` + esc(v.title) + `</h1>`)
	// The live regions are always in the page, so that assistive
	// technology announces what a response puts in them.
	b.WriteString(`<div id="status" role="status">`)
	if v.status != "" {
		b.WriteString(`<p>` + esc(v.status) + `</p>`)
	}
	b.WriteString(`</div><div id="error" role="alert">`)
	if v.alert != "" {
		b.WriteString(`<p class="error">` + esc(v.alert) + `</p>`)
	}
	b.WriteString(`</div>`)
	for _, part := range v.body {
		b.WriteString(part)
	}
	b.WriteString(`</main></body></html>`)
	p.headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// headers sets the headers every answer of the page carries.
func (p *page) headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", p.csp)
	h.Set("Cache-Control", "no-store")
	// same-origin: a mailed link's token never leaves in a Referer, and
	// the page's own POSTs still carry their Origin (no-referrer would
	// make it "null").
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !p.insecure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// html renders f, the field named by invalid marked and focused, or, when
// no field of f is, its first field focused unless noFocus.
func (f form) html(invalid string) string {
	var b strings.Builder
	b.WriteString(`<form method="post" action="` + esc(f.action) + `">`)
	b.WriteString(`<input type="hidden" name="csrf" value="` + esc(f.csrf) + `">`)
	b.WriteString(`<input type="hidden" name="return_to" value="` + esc(f.returnTo) + `">`)
	for _, h := range f.hidden {
		b.WriteString(`<input type="hidden" name="` + esc(h[0]) + `" value="` + esc(h[1]) + `">`)
	}
	for i, fd := range f.fields {
		b.WriteString(`<label for="` + esc(fd.id) + `">` + esc(fd.label) + `</label>`)
		if fd.hint != "" {
			b.WriteString(`<p class="hint" id="` + esc(fd.id) + `-hint">` + esc(fd.hint) + `</p>`)
		}
		b.WriteString(`<input id="` + esc(fd.id) + `" name="` + esc(fd.name) + `" type="` + esc(fd.kind) + `" required`)
		attr := func(name, v string) {
			if v != "" {
				b.WriteString(` ` + name + `="` + esc(v) + `"`)
			}
		}
		attr("value", fd.value)
		attr("autocomplete", fd.autocomplete)
		attr("inputmode", fd.inputmode)
		attr("pattern", fd.pattern)
		if fd.maxlength > 0 {
			attr("maxlength", strconv.Itoa(fd.maxlength))
		}
		described := ""
		if fd.hint != "" {
			described = fd.id + "-hint"
		}
		if fd.id == invalid {
			b.WriteString(` aria-invalid="true" autofocus`)
			described = strings.TrimSpace(described + " error")
		} else if invalid == "" && i == 0 && !f.noFocus {
			b.WriteString(` autofocus`)
		}
		attr("aria-describedby", described)
		b.WriteString(`>`)
	}
	for _, bt := range f.buttons {
		b.WriteString(`<button type="submit" id="` + esc(bt[0]) + `"`)
		if bt[1] != "" {
			b.WriteString(` name="method" value="` + esc(bt[1]) + `"`)
		}
		b.WriteString(`>` + esc(bt[2]) + `</button>`)
	}
	b.WriteString(`</form>`)
	return b.String()
}

// link renders an <a> to href.
func link(id, href, text string) string {
	return `<p><a id="` + esc(id) + `" href="` + esc(href) + `">` + esc(text) + `</a></p>`
}

// stylesheet is the page's CSS with the theme's colours.
func (p *page) stylesheet() string {
	accent, bg, text := "#3056d3", "#f6f7f9", "#16181d"
	if c := p.Colors.Accent; c != "" {
		accent = c
	}
	if c := p.Colors.Background; c != "" {
		bg = c
	}
	if c := p.Colors.Text; c != "" {
		text = c
	}
	return `:root{--accent:` + accent + `;--bg:` + bg + `;--text:` + text + `}
*{box-sizing:border-box}
[hidden]{display:none}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;color:var(--text);border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.logo{max-height:3rem;max-width:12rem}
.name{font-weight:600;color:var(--accent);margin:0}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{display:block;width:100%;padding:.6rem .75rem;font:inherit;border:1px solid #8a8f98;border-radius:.4rem}
input[aria-invalid=true]{border-color:#b42318;border-width:2px}
button{display:block;width:100%;margin-top:.75rem;padding:.65rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:.4rem;cursor:pointer}
button+button{background:#fff;color:var(--accent);border:2px solid var(--accent)}
a{color:var(--accent)}
a.social{display:block;margin-top:.75rem;padding:.55rem;text-align:center;font-weight:600;text-decoration:none;border:2px solid var(--accent);border-radius:.4rem}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.error{color:#b42318;font-weight:600}
.hint{margin:0 0 .25rem;color:#4b5058;font-size:.9rem}
.or{text-align:center;color:#4b5058;margin:1.5rem 0 0}
`
}
