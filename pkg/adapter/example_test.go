package adapter_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/socketfx/socketfx/pkg/adapter"
)

// go-redis's own log lines, sent to slog (install it with redis.SetLogger
// once, in main).
func ExampleNewRedisLogger() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	adapter.NewRedisLogger(log).Printf(context.Background(), "redis: reconnecting to %s", "127.0.0.1:6379")
	// Output: level=WARN msg="redis: reconnecting to 127.0.0.1:6379" component=go-redis
}
