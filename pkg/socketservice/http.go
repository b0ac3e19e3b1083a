package socketservice

import (
	"bufio"
	"bytes"
	"net"
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
	h, st := s.engine, s.state
	s.mu.RUnlock()
	if h == nil || st != stateRunning && st != stateStopping {
		http.Error(w, "socket server is not running", http.StatusServiceUnavailable)
		return
	}
	if hj, ok := w.(http.Hijacker); ok && isWebSocketUpgrade(r) {
		// The engine sends its open packet before it attaches the
		// socket.io layer to the new connection, which happens before
		// ServeHTTP returns; a client quick to answer (its CONNECT, or the
		// "2probe" of an upgrade) would be read into the void. Reads wait
		// until the engine is ready.
		g := &gatedWriter{ResponseWriter: w, hj: hj, gate: make(chan struct{})}
		defer close(g.gate)
		h.ServeHTTP(g, r)
		return
	}
	h.ServeHTTP(w, r)
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

type gatedWriter struct {
	http.ResponseWriter
	hj   http.Hijacker
	gate chan struct{}
}

func (g *gatedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := g.hj.Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// With buffered bytes the websocket upgrader refuses the
		// connection anyway.
		return conn, brw, err
	}
	gc := &gatedConn{Conn: conn, gate: g.gate}
	return gc, bufio.NewReadWriter(bufio.NewReader(gc), brw.Writer), nil
}

type gatedConn struct {
	net.Conn
	gate <-chan struct{}
}

func (c *gatedConn) Read(p []byte) (int, error) {
	<-c.gate
	return c.Conn.Read(p)
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
