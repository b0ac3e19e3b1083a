// Command socketfx-demo runs the socketfx demo: a chat on /chat, dynamic
// /tenant-<digits> namespaces, POST /api/notify, GET /healthz and a chat
// page at /. It listens on :3000, or on -addr, or on :$PORT.
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/socketfx/socketfx/internal/demo"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

func main() {
	addr := ":3000"
	if p := os.Getenv("PORT"); p != "" {
		addr = ":" + p
	}
	flag.StringVar(&addr, "addr", addr, "listen address (default :3000, or :$PORT)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fx.New(
		demo.Module,
		fx.Supply(demo.Config{Addr: addr}, log),
		fx.WithLogger(func() fxevent.Logger { return &fxevent.SlogLogger{Logger: log} }),
	).Run()
}
