package socketservice

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/socketfx/socketfx/pkg/session"
)

type eventKey struct{}

// eventState is what the framework knows about the event being handled.
type eventState struct {
	socket *Socket
	route  *route
	msg    *Message
	ack    func([]any)
	logger atomic.Pointer[slog.Logger] // made on first use; handlers may run on several goroutines (middleware.Timeout)
	ran    atomic.Bool                 // the handler itself ran (not only middleware), for observers
}

// SocketFromContext returns the socket whose event or hook is running.
func SocketFromContext(ctx context.Context) (*Socket, bool) {
	if st, ok := ctx.Value(eventKey{}).(*eventState); ok {
		return st.socket, true
	}
	if s, ok := ctx.Value(socketKey{}).(*Socket); ok {
		return s, true
	}
	return nil, false
}

// EventFromContext returns the name of the event being handled.
func EventFromContext(ctx context.Context) (string, bool) {
	if st, ok := ctx.Value(eventKey{}).(*eventState); ok {
		return st.msg.Event, true
	}
	return "", false
}

// LoggerFromContext returns a logger carrying the namespace, socket id and
// event of the running handler or hook, or the server's logger elsewhere
// (slog.Default when there is none). It never returns nil.
func LoggerFromContext(ctx context.Context) *slog.Logger {
	if st, ok := ctx.Value(eventKey{}).(*eventState); ok {
		if l := st.logger.Load(); l != nil {
			return l
		}
		l := st.socket.logger.With("event", st.msg.Event)
		if st.logger.CompareAndSwap(nil, l) {
			return l
		}
		return st.logger.Load()
	}
	if s, ok := ctx.Value(socketKey{}).(*Socket); ok {
		return s.logger
	}
	return slog.Default()
}

type socketKey struct{}

// Identity is who a socket belongs to, set by connection middleware (see
// middleware.JWTAuth) and read by guards (middleware.RequireRole).
type Identity struct {
	// Subject identifies the user, e.g. a JWT's "sub".
	Subject string
	// Name is a display name, if known.
	Name string
	// Roles are the user's roles, e.g. "admin".
	Roles []string
	// Claims holds whatever else the authenticator knows.
	Claims map[string]any
}

// HasRole reports whether the identity has one of roles.
func (id Identity) HasRole(roles ...string) bool {
	for _, want := range roles {
		for _, have := range id.Roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

type identityKey struct{}

// SetIdentity records who the socket belongs to.
//
// The identity is kept in the socket's session too, so that a recovered
// socket still has it when its connection middleware is skipped
// (RecoveryConfig.SkipMiddlewares).
func (s *Socket) SetIdentity(id Identity) {
	s.Set(identityKey{}, id)
	s.Session().Set(identitySessionKey, id)
}

// identitySessionKey holds the identity in the session.
const identitySessionKey = "$socketfx:identity"

// Identity returns the identity set with SetIdentity (on this connection,
// or before a recovery).
func (s *Socket) Identity() (Identity, bool) {
	if v, ok := s.Get(identityKey{}); ok {
		id, ok := v.(Identity)
		return id, ok
	}
	id, ok, err := session.Get[Identity](s.Session(), identitySessionKey)
	if !ok || err != nil {
		return Identity{}, false
	}
	return id, true
}

// IdentityFromContext returns the identity of the socket whose event or
// hook is running.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	if s, ok := SocketFromContext(ctx); ok {
		return s.Identity()
	}
	return Identity{}, false
}
