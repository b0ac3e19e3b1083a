package middleware

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Logging logs one line per event with the namespace, socket id, event,
// duration and outcome ("ok", "no_ack" for socketservice.ErrNoAck, or the
// error code), at Info for successes, client errors and ErrNoAck, and at
// Error for internal errors. Nil logs to the logger of the event
// (LoggerFromContext).
func Logging(logger *slog.Logger) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			start := time.Now()
			out, err := next(ctx, m)
			l := logger
			if l == nil {
				l = socketservice.LoggerFromContext(ctx)
			} else if s, ok := socketservice.SocketFromContext(ctx); ok {
				l = l.With("namespace", s.Namespace(), "socket", s.ID(), "event", m.Event)
			}
			outcome, level := "ok", slog.LevelInfo
			switch {
			case errors.Is(err, socketservice.ErrNoAck):
				outcome = "no_ack"
			case err != nil:
				outcome = string(socketservice.CodeOf(err))
				if outcome == string(socketservice.CodeInternal) {
					level = slog.LevelError
				}
			}
			l.Log(ctx, level, "socket event", "duration", time.Since(start), "outcome", outcome)
			return out, err
		}
	}
}
