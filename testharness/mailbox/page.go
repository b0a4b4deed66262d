package mailbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
)

// Handler shows the mailbox: GET / lists the messages, newest first,
// GET /messages/{id} shows one (its text, and its HTML in a sandboxed
// frame), GET /messages.json gives them all as JSON for scripts.
//
// It answers only requests whose Host is loopback (localhost, 127.0.0.0/8
// or [::1], with any port) or the host of one of publicAddrs, the
// host:port addresses the page also listens on off loopback — any IP
// address for one with an unspecified host, such as ":8025". Any other
// Host is answered 421 Misdirected Request, before any mail is read, so
// that a DNS-rebinding page cannot read the mailed tokens.
func Handler(b *Mailbox, publicAddrs ...string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		msgs := b.Messages()
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		render(w, listPage, msgs)
	})
	mux.HandleFunc("GET /messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		for _, m := range b.Messages() {
			if m.ID == id {
				render(w, messagePage, m)
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /messages.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(jsonMessages(b.Messages()))
	})
	return newHostCheck(mux, publicAddrs)
}

type jsonMessage struct {
	ID       int    `json:"id"`
	Received string `json:"received"`
	Via      string `json:"via"`
	Kind     string `json:"kind"`
	From     string `json:"from"`
	To       string `json:"to"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	HTML     string `json:"html"`
}

func jsonMessages(msgs []*Message) []jsonMessage {
	out := make([]jsonMessage, len(msgs))
	for i, m := range msgs {
		out[i] = jsonMessage{ID: m.ID, Received: m.Received.UTC().Format("2006-01-02T15:04:05Z"), Via: m.Via, Kind: m.Kind,
			From: m.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	}
	return out
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page runs no script; a message's HTML shows in a frame that may
	// run none either.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:")
	h.Set("X-Content-Type-Options", "nosniff")
	_ = t.Execute(w, data)
}

const style = `<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1c1c1c}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}
pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}iframe{width:100%;height:24rem;border:1px solid #ddd}</style>`

var listPage = template.Must(template.New("list").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Latch dev mailbox</title>` + style + `</head><body><h1>Latch dev mailbox</h1>
{{if not .}}<p>No mail yet. Mail the engine sends — magic links, codes, reset links — appears here.</p>{{else}}
<table><thead><tr><th scope="col">Received</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>
{{range .}}<tr><td>{{.Received.UTC.Format "15:04:05"}}</td><td>{{.To}}</td><td><a href="messages/{{.ID}}">{{.Subject}}</a></td></tr>
{{end}}</tbody></table>{{end}}<p><a href="messages.json">All messages as JSON</a></p></body></html>`))

var messagePage = template.Must(template.New("message").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{.Subject}} — Latch dev mailbox</title>` + style + `</head><body><p><a href="../">← Mailbox</a></p>
<h1>{{.Subject}}</h1><p>From {{.From}} to {{.To}}, {{.Received.UTC.Format "2006-01-02 15:04:05"}} UTC, by {{.Via}}</p>
<h2>Text</h2><pre>{{.Text}}</pre>{{if .HTML}}<h2>HTML</h2><iframe sandbox title="The message as HTML" srcdoc="{{.HTML}}"></iframe>{{end}}
</body></html>`))
