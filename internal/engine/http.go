package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// ServeHTTP serves the Socket.IO protocol (the caller checked the path).
func (d *Driver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hj, ok := w.(http.Hijacker); ok && isWebSocketUpgrade(r) {
		if d.opts.CORS == nil {
			r = sameOriginView(r)
		}
		// The engine sends its open packet before it attaches the
		// socket.io layer to the new connection, which happens before
		// ServeHTTP returns; a client quick to answer (its CONNECT, or the
		// "2probe" of an upgrade) would be read into the void. Reads wait
		// until the engine is ready.
		g := &gatedWriter{ResponseWriter: w, hj: hj, gate: make(chan struct{})}
		defer close(g.gate)
		d.http.ServeHTTP(g, r)
		return
	}
	if sid := r.URL.Query().Get("sid"); sid != "" && !d.checkSession(w, r, sid) {
		return
	}
	if d.requests != nil {
		d.polls.serve(d.requests, w, r, d.abortPoll)
		return
	}
	d.http.ServeHTTP(w, r)
}

// checkSession answers, as Node's engine does, the polling requests that
// v3.0.6 mishandles, and reports whether the engine should serve r:
//
//   - a request for a session that is closed gets 400 "Session ID unknown"
//     (the engine answered some with a ping and a close packet, and left
//     polls to a closed session pending); a closing one still gets its
//     close packet;
//   - a poll for a session that upgraded to websocket gets 400 "Bad
//     request" (the engine answered some with a close packet, or never);
//   - a POST whose body is not an engine.io payload gets 400 and closes the
//     session (the engine dropped the decoding error and kept the session).
func (d *Driver) checkSession(w http.ResponseWriter, r *http.Request, sid string) bool {
	conn, ok := d.io.Engine().Clients().Load(sid)
	if !ok {
		return true // the engine answers "Session ID unknown" itself
	}
	if conn.ReadyState() == "closed" {
		writeEngineError(w, 1, "Session ID unknown")
		return false
	}
	tr := conn.Transport()
	if tr != nil && tr.Name() != "polling" {
		writeEngineError(w, 3, "Bad request")
		return false
	}
	if r.Method != http.MethodPost || r.Body == nil || r.ContentLength > d.opts.MaxPayload {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, d.opts.MaxPayload+1))
	_ = r.Body.Close()
	if err != nil {
		writeEngineError(w, 3, "Bad request")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if int64(len(body)) > d.opts.MaxPayload || r.Header.Get("Content-Type") == "application/octet-stream" {
		return true // the engine refuses it (413, 400)
	}
	if _, err := parser.Parserv4().DecodePayload(types.NewStringBuffer(body)); err != nil {
		d.log.Warn("socketfx: malformed polling payload from the client; closing its session",
			"sid", sid, "remote", r.RemoteAddr, "error", err)
		writeEngineError(w, 3, "Bad request")
		if tr != nil {
			// Discarded, the transport closes at once instead of keeping
			// the close packet (and a 30 s timer) for a poll that this
			// session will not be granted.
			tr.Discard()
			tr.OnError("parse error", err)
		} else {
			conn.Close(true)
		}
		return false
	}
	return true
}

// writeEngineError writes an engine.io error response (HTTP 400).
func writeEngineError(w http.ResponseWriter, code int, message string) {
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
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

// abortPoll reports a long-poll request the client abandoned to its
// transport, which closes the connection ("transport error").
func (d *Driver) abortPoll(sid string) {
	if conn, ok := d.io.Engine().Clients().Load(sid); ok {
		if t := conn.Transport(); t != nil && t.Name() == "polling" {
			t.OnError("poll connection closed prematurely", nil)
		}
	}
}
