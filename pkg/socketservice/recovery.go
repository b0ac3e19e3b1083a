package socketservice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/socketfx/socketfx/internal/enginefix"
	"github.com/socketfx/socketfx/internal/recovery"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// RecoveryOptions are what a Cluster's adapter needs to recover sockets:
// the session store, the recovery window and the server's logger.
type RecoveryOptions struct {
	Store  session.Store
	Window time.Duration
	Logger *slog.Logger
}

// WithSessionStore sets the store that keeps the sessions of dropped
// sockets during the recovery window (default: session.NewMemoryStore).
// A cluster needs a shared one (pkg/session/redisstore).
func WithSessionStore(st session.Store) ServerOption {
	return serverOptionFunc(func(s *Server) {
		if st != nil {
			s.store = st
		}
	})
}

// SessionExpiredHook runs when the session of a socket that dropped is
// given up: its client did not come back within the recovery window. It
// runs once, on one node of a cluster. s holds the session's last values.
type SessionExpiredHook func(ctx context.Context, s *session.Session)

// OnSessionExpired adds a hook run when a kept session expires unclaimed;
// see SessionExpiredHook. It needs Config.Recovery.
func (r *Router) OnSessionExpired(h SessionExpiredHook) {
	r.svc.expired = append(r.svc.expired, h)
}

// Session returns the socket's session, which survives a dropped
// connection its client recovers (session.FromContext gives the same).
func (s *Socket) Session() *session.Session { return s.sess }

func (s *Server) recoveryOptions() recovery.Options {
	return recovery.Options{Store: s.store, Window: s.cfg.Recovery.MaxDisconnectionDuration, Logger: s.log}
}

// checkRecovery refuses a set-up in which recovery could only work by
// chance: a cluster whose adapter or store cannot recover on another node.
func (s *Server) checkRecovery() error {
	if s.cfg.Recovery == nil || s.cluster == nil {
		return nil
	}
	if !s.cluster.RecoversAcrossNodes() {
		return fmt.Errorf("socketservice: Config.Recovery is set but the cluster adapter %T cannot recover a socket on another node; remove Config.Recovery or use an adapter that can", s.cluster)
	}
	if !s.store.Shared() {
		return fmt.Errorf("socketservice: Config.Recovery is set on a cluster but the session store %T lives in this process: "+
			"a client that comes back to another node would lose its session; provide a shared store (pkg/session/redisstore)", s.store)
	}
	return nil
}

// attachSession gives a new socket its session, or finds the one its
// recovery restored.
func (s *Server) attachSession(raw *socket.Socket) *session.Session {
	if d, ok := raw.Data().(*recovery.SocketData); ok && d.Session != nil {
		return d.Session
	}
	sess := session.New(string(raw.Id()))
	raw.SetData(&recovery.SocketData{Session: sess, ConnectedAt: time.UnixMilli(raw.Handshake().Issued)})
	return sess
}

// discardSession forgets a socket's kept session after a clean disconnect
// (the engine can keep one when a client's disconnect races its close).
func (s *Server) discardSession(w *Socket) {
	if s.cfg.Recovery == nil {
		return
	}
	pid := enginefix.Pid(w.raw)
	if pid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.store.Delete(ctx, pid); err != nil {
		w.logger.Warn("socketservice: could not discard the session of a socket that left", "error", err)
	}
}

// sweeper reports sessions whose recovery window ended unclaimed.
func (s *Server) sweeper(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := min(max(s.cfg.Recovery.MaxDisconnectionDuration/4, 50*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			recs, err := s.store.Expired(ctx, now)
			cancel()
			if err != nil {
				s.log.Warn("socketservice: cannot list expired sessions", "error", err)
			}
			for _, rec := range recs {
				s.onSessionExpired(rec)
			}
		}
	}
}

func (s *Server) onSessionExpired(rec session.Record) {
	def := s.serviceFor(rec.Namespace)
	s.log.Debug("socketservice: session expired unclaimed", "namespace", rec.Namespace, "socket", rec.SocketID)
	if def == nil {
		return
	}
	sess := session.Restore(rec.SocketID, rec.Values)
	ctx := session.NewContext(s.ctx, sess)
	for _, h := range def.expired {
		func() {
			defer s.recoverHook("session expired", rec.Namespace, rec.SocketID)
			h(ctx, sess)
		}()
	}
}

// serviceFor finds the service of a namespace name.
func (s *Server) serviceFor(name string) *serviceDef {
	if def, ok := s.static[name]; ok {
		return def
	}
	for _, def := range s.patterns {
		if def.pattern.MatchString(name) {
			return def
		}
	}
	return nil
}

// presentNoOffset rewrites the CONNECT packet of a client that has a
// private session id but no offset (it never received a packet), so that
// the engine tries to recover it too: it gets every packet since it first
// connected (see internal/recovery).
func presentNoOffset(p *packet.Packet) {
	buf, ok := p.Data.(*types.StringBuffer)
	if !ok {
		return
	}
	b := buf.Bytes()
	i := bytes.IndexByte(b, '{')
	if i < 0 || !bytes.Contains(b[i:], []byte(`"pid"`)) {
		return
	}
	var auth map[string]any
	if json.Unmarshal(b[i:], &auth) != nil {
		return
	}
	if pid, ok := auth["pid"].(string); !ok || pid == "" {
		return
	}
	if offset, ok := auth["offset"].(string); ok && offset != "" {
		return
	}
	auth["offset"] = recovery.NoOffset
	out, err := json.Marshal(auth)
	if err != nil {
		return
	}
	rewritten := append(append([]byte(nil), b[:i]...), out...)
	buf.Reset()
	_, _ = buf.Write(rewritten)
}

// sessionValues turns a socket's data into what FetchSockets shows.
func sessionValues(data any) any {
	d, ok := data.(*recovery.SocketData)
	if !ok {
		return data
	}
	snap, err := d.Session.Snapshot()
	if err != nil {
		return nil
	}
	out := make(map[string]any, len(snap))
	for k, v := range snap {
		var x any
		_ = json.Unmarshal(v, &x)
		out[k] = x
	}
	return out
}
