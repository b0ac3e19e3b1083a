package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// ServeHTTP serves the Socket.IO protocol (the caller checked the path).
func (d *Driver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isWebSocketUpgrade(r) {
		if d.opts.CORS == nil {
			r = sameOriginView(r)
		}
		d.http.ServeHTTP(w, r)
		return
	}
	if sid := r.URL.Query().Get("sid"); sid != "" && !d.checkSession(w, r, sid) {
		return
	}
	if d.requests != nil {
		d.polls.serve(d.requests, w, r, d.staleSession)
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

// staleSession reports a session that closed or left the polling transport.
func (d *Driver) staleSession(sid string) bool {
	conn, ok := d.io.Engine().Clients().Load(sid)
	if !ok {
		return false // the engine answers "Session ID unknown"
	}
	tr := conn.Transport()
	return conn.ReadyState() == "closed" || tr != nil && tr.Name() != "polling"
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

// pollSet answers the long polls the engine leaves pending. When a session
// closes, or upgrades to websocket, while a poll of its polling transport
// is pending, v3.0.6 does not always answer that poll: it waited for the
// client to give up (seen about once in 400 polls sent right after an
// upgrade). The set knows every poll in the engine by session. The
// session's close or upgrade ends the engine's view of the polls its
// transport still holds; once the engine has let go of a request it did
// not answer, the set answers it with a CLOSE packet, as Node's engine
// does. (Writing while the engine may still be preparing its own answer
// would race it.)
type pollSet struct {
	mu     sync.Mutex
	active map[string]map[*pollReq]struct{} // by sid
}

type pollReq struct {
	hc       *types.HttpContext
	cancel   context.CancelFunc
	answered atomic.Bool // the set ended it; it answers if the engine did not
}

// serve runs one request through the engine. A poll registered after its
// session upgraded or closed (a race with checkSession) is refused here:
// the answer for that session has gone.
func (ps *pollSet) serve(h requestHandler, w http.ResponseWriter, r *http.Request, stale func(sid string) bool) {
	sid := r.URL.Query().Get("sid")
	if sid == "" || r.Method != http.MethodGet {
		h.HandleRequest(types.NewHttpContext(w, r))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	pr := &pollReq{hc: types.NewHttpContext(w, r.WithContext(ctx)), cancel: cancel}
	ps.mu.Lock()
	if ps.active == nil {
		ps.active = map[string]map[*pollReq]struct{}{}
	}
	if ps.active[sid] == nil {
		ps.active[sid] = map[*pollReq]struct{}{}
	}
	ps.active[sid][pr] = struct{}{}
	ps.mu.Unlock()
	defer func() {
		ps.mu.Lock()
		delete(ps.active[sid], pr)
		if len(ps.active[sid]) == 0 {
			delete(ps.active, sid)
		}
		ps.mu.Unlock()
	}()
	if stale(sid) {
		writeEngineError(w, 3, "Bad request")
		return
	}
	h.HandleRequest(pr.hc)
	if pr.answered.Load() && !pr.hc.ResponseCommitted() && r.Context().Err() == nil {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = io.WriteString(w, "1") // a CLOSE packet
	}
}

// answer ends the polls of sid (of every session for "") that a transport
// still holds (its close listener is set; a poll it is refusing, such as
// an overlap, gets the engine's 400). After an upgrade, every poll of the
// session is ended: one the engine has not armed yet would be handed to
// the websocket transport, which never answers it.
func (ps *pollSet) answer(sid string, upgraded bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for s, set := range ps.active {
		if sid != "" && s != sid {
			continue
		}
		for pr := range set {
			if !pr.hc.IsDone() && (upgraded || pr.hc.ListenerCount("close") > 0) {
				pr.answered.Store(true)
				pr.cancel()
			}
		}
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
