package main

import (
	"net/http"
	"net/http/pprof"
)

// debugHandler serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/: the index and named profiles (heap, goroutine, allocs,
// block, mutex, threadcreate), cmdline, profile (CPU, ?seconds=N), symbol
// and trace. It is mounted only on the --debug-addr listener, never on
// the public one, and on a mux of its own rather than
// http.DefaultServeMux.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
