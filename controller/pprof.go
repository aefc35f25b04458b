package controller

import (
	"net/http"
	"net/http/pprof"
)

// HandlePprof serves Go's profiles (net/http/pprof) under /debug/pprof/ on mux: the
// metrics listener of a master or an agent started with --pprof, for finding where time
// goes under load (`go tool pprof http://ADDR/debug/pprof/profile?seconds=30`). Never the
// API's listener: a profile exposes the process's internals, and a CPU profile costs it
// time. (Importing net/http/pprof also registers the handlers on http.DefaultServeMux;
// Helios never serves that mux.)
func HandlePprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
