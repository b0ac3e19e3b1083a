package socketservice

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/socketfx/socketfx/internal/clientdist"
)

// clientFile matches the browser client bundles Node's socket.io serves.
var clientFile = regexp.MustCompile(`^socket\.io(\.msgpack|\.esm)?(\.min)?\.js(\.map)?$`)

// Handler returns the http.Handler to mount on your mux at Config.Path
// (e.g. mux.Handle("/socket.io/", srv.Handler())). It can be taken before
// Start; until Start and after Stop it answers 503. Besides the Socket.IO
// protocol it serves the official browser client at <path>/socket.io.js
// (and .min.js, .esm.min.js, .map) when the build embeds it.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := s.cfg.Path
	if r.URL.Path != p && !strings.HasPrefix(r.URL.Path, p+"/") {
		http.NotFound(w, r)
		return
	}
	if rest := strings.TrimPrefix(r.URL.Path, p+"/"); clientFile.MatchString(rest) {
		serveClient(w, r, rest)
		return
	}
	s.mu.RLock()
	d, st := s.driver, s.state
	s.mu.RUnlock()
	if d == nil || st < stateRunning || st > stateStopping {
		http.Error(w, "socket server is not running", http.StatusServiceUnavailable)
		return
	}
	if st == stateStopping && r.URL.Query().Get("sid") == "" {
		// A new connection: the client's reconnection retries, on
		// another node behind the load balancer.
		writeEngineRefusal(w, http.StatusServiceUnavailable, "server is shutting down", CodeUnavailable)
		return
	}
	done, ok := s.limitConn(w, r)
	if !ok {
		return
	}
	defer done()
	if !s.allow(w, r) {
		return
	}
	d.ServeHTTP(w, r)
}

func serveClient(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, ok := clientdist.Lookup(name)
	if !ok {
		http.Error(w, "socketfx: the browser client "+name+" is not embedded in this build; "+
			"run `make client` (it copies socket.io-client@4 from npm) and rebuild", http.StatusNotFound)
		return
	}
	if strings.HasSuffix(name, ".map") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=0")
	w.Header().Set("ETag", `"`+clientdist.Version()+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}
