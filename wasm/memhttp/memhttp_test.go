package memhttp

import (
	"io"
	"net/http"
	"testing"
)

func TestRecorder(t *testing.T) {
	for _, c := range []struct {
		name       string
		write      func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{name: "nothing", write: func(http.ResponseWriter) {}, wantStatus: 200},
		{name: "body only", write: func(w http.ResponseWriter) { io.WriteString(w, "hi") }, wantStatus: 200, wantBody: "hi"},
		{name: "status then body", write: func(w http.ResponseWriter) {
			w.WriteHeader(404)
			io.WriteString(w, "no")
		}, wantStatus: 404, wantBody: "no"},
		{name: "second status ignored", write: func(w http.ResponseWriter) {
			w.WriteHeader(401)
			w.WriteHeader(500)
		}, wantStatus: 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder()
			c.write(r)
			status, _, body := r.Result()
			if status != c.wantStatus || string(body) != c.wantBody {
				t.Errorf("got %d %q, want %d %q", status, body, c.wantStatus, c.wantBody)
			}
		})
	}
}
