package socketservice

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/socketfx/socketfx/internal/clientdist"
	"github.com/zishang520/socket.io/v3/pkg/types"
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
		if s.cfg.CORS == nil {
			r = sameOriginView(r)
		}
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
	if hr, ok := h.(requestHandler); ok {
		s.polls.serve(hr, w, r, s.abortPoll)
		return
	}
	h.ServeHTTP(w, r)
}

// requestHandler is the engine's entry point for non-upgrade requests.
type requestHandler interface {
	HandleRequest(*types.HttpContext)
}

// pollSet serves long-polling requests with a context socketfx controls.
//
// The engine wraps each request in a types.HttpContext whose watcher
// goroutine reads a field (Cleanup) that the polling transport writes on the
// request goroutine, with nothing ordering the two: every poll a client
// abandons is a data race. The engine also leaves a pending poll unanswered
// when it closes the transport (it closes its write queue before queueing
// the CLOSE packet), relying on that same context to end the request.
//
// A third: the engine clears the transport's current request after it let
// the request's handler return, racing the client's next poll (see serve).
//
// So the engine gets a context that ends only when socketfx says so: when
// the client went away, or at Stop; and only once the transport has armed
// the request (its "close" listener, registered after Cleanup, is
// visible), which orders the write before the watcher's read.
type pollSet struct {
	mu     sync.Mutex
	active map[*pollReq]struct{}
}

type pollReq struct {
	hc     *types.HttpContext
	cancel context.CancelFunc
}

// serve runs one request. When the client abandons a long poll (its
// request context ends first), the request is ended and onAbort tells the
// transport, as Node's engine does; the engine alone would not notice until
// the ping timeout.
func (ps *pollSet) serve(h requestHandler, w http.ResponseWriter, r *http.Request, onAbort func(sid string)) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	pr := &pollReq{hc: types.NewHttpContext(w, r.WithContext(ctx)), cancel: cancel}
	ps.mu.Lock()
	if ps.active == nil {
		ps.active = map[*pollReq]struct{}{}
	}
	ps.active[pr] = struct{}{}
	ps.mu.Unlock()
	sid := r.URL.Query().Get("sid")
	stop := context.AfterFunc(r.Context(), func() {
		pr.end()
		if r.Method == http.MethodGet && sid != "" {
			onAbort(sid)
		}
	})
	defer func() {
		stop()
		ps.mu.Lock()
		delete(ps.active, pr)
		ps.mu.Unlock()
		cancel()
	}()
	h.HandleRequest(pr.hc)
	// The engine ends a request by closing its done channel (which let
	// HandleRequest return) and then clearing the transport's current
	// request. Were the response sent in between, the client's next poll
	// could arrive first and be cleared instead: its later writes fail and
	// the connection dies ("polling write error"), seen under load. Flush
	// runs the same sync.Once, so it returns only once that clearing is
	// done; the response leaves after it.
	pr.hc.Flush()
}

// end ends the engine's view of the request once it is armed or done. A
// request the engine never arms (a poll that reaches a connection already
// upgraded to websocket) is ended after armWait: arming takes microseconds
// once the request is in the engine.
func (pr *pollReq) end() {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(armWait)
	for !pr.hc.IsDone() && pr.hc.ListenerCount("close") == 0 && time.Now().Before(deadline) {
		select {
		case <-pr.hc.Done():
		case <-t.C:
		}
	}
	pr.cancel()
}

const armWait = 100 * time.Millisecond

// endAll ends every request still pending (at Stop, after the engine
// closed, which leaves pending polls unanswered).
func (ps *pollSet) endAll() {
	ps.mu.Lock()
	prs := make([]*pollReq, 0, len(ps.active))
	for pr := range ps.active {
		prs = append(prs, pr)
	}
	ps.mu.Unlock()
	for _, pr := range prs {
		pr.end()
	}
}

// sameOriginView hides a cross-origin Origin header from the engine's
// websocket upgrade. Since v3.0.6 the engine refuses a cross-origin
// websocket (400) unless CORS is configured, where Node's socket.io (and
// v3.0.2) accept it: CORS governs what a browser page may read over HTTP,
// and a websocket is not subject to it. Without Config.CORS socketfx keeps
// Node's behaviour; with it, the engine checks the origin against the list.
func sameOriginView(r *http.Request) *http.Request {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return r
	}
	r = r.Clone(r.Context())
	r.Header.Del("Origin")
	return r
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

// abortPoll reports a long-poll request the client abandoned to its
// transport, which closes the connection ("transport error").
func (s *Server) abortPoll(sid string) {
	s.mu.RLock()
	io := s.io
	s.mu.RUnlock()
	if io == nil {
		return
	}
	if conn, ok := io.Engine().Clients().Load(sid); ok {
		if t := conn.Transport(); t != nil && t.Name() == "polling" {
			t.OnError("poll connection closed prematurely", nil)
		}
	}
}
