package socketservice

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/socketfx/socketfx/pkg/session"
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
