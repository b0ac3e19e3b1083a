package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/cmd/socketfx-demo/internal/demo"
	"github.com/socketfx/socketfx/pkg/adapter"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

func main() {
	addr := ":3000"
	if p := os.Getenv("PORT"); p != "" {
		addr = ":" + p
	}
	cfg := demo.Config{Secret: os.Getenv("SOCKETFX_DEMO_SECRET")}
	flag.StringVar(&addr, "addr", addr, "listen address (default :3000, or :$PORT)")
	flag.StringVar(&cfg.Redis, "redis", "", "join a cluster through this Redis, e.g. redis://127.0.0.1:6379")
	flag.Parse()
	cfg.Addr = addr

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// go-redis has one process-wide logger: its lines go to slog too.
	redis.SetLogger(adapter.NewRedisLogger(log))
	fx.New(
		demo.App(cfg),
		fx.Supply(log),
		fx.WithLogger(func() fxevent.Logger { return &fxevent.SlogLogger{Logger: log} }),
	).Run()
}
