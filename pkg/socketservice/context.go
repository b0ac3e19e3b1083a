package socketservice

import (
	"context"
	"log/slog"
)

type eventKey struct{}

// eventState is what the framework knows about the event being handled.
type eventState struct {
	socket    *Socket
	route     *route
	msg       *Message
	ack       func([]any, error)
	responded bool
	logger    *slog.Logger
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
		if st.logger == nil {
			st.logger = st.socket.logger.With("event", st.msg.Event)
		}
		return st.logger
	}
	if s, ok := ctx.Value(socketKey{}).(*Socket); ok {
		return s.logger
	}
	return slog.Default()
}

type socketKey struct{}

// ResponseSent reports whether the event's response (ack and declared
// emits) has been sent, which is the case in the code after next() of every
// middleware once the handler returned.
func ResponseSent(ctx context.Context) bool {
	if st, ok := ctx.Value(eventKey{}).(*eventState); ok {
		return st.responded
	}
	return false
}
