package adapter

import (
	"context"
	"fmt"
	"log/slog"
)

// RedisLogger writes go-redis's own log lines (reconnections, pool and
// push-notification errors) to a slog.Logger at Warn, with
// component=go-redis.
//
// go-redis v9 has a single process-wide logger and no per-client one, so
// the adapter cannot install it for you without changing the logging of
// every other Redis client in the process. Install it once in main, before
// the app starts:
//
//	redis.SetLogger(adapter.NewRedisLogger(logger))
type RedisLogger struct{ log *slog.Logger }

// NewRedisLogger returns a RedisLogger writing to l (slog.Default() when
// nil).
func NewRedisLogger(l *slog.Logger) RedisLogger {
	if l == nil {
		l = slog.Default()
	}
	return RedisLogger{log: l.With("component", "go-redis")}
}

// Printf implements go-redis's logging interface.
func (r RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.log.WarnContext(ctx, fmt.Sprintf(format, v...))
}
