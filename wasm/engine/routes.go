package engine

import "net/http"

func (e *Engine) routes() *http.ServeMux {
	mux := http.NewServeMux()
	return mux
}
