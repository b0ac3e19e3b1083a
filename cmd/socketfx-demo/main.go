package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/cmd/socketfx-demo/internal/demo"
	"github.com/socketfx/socketfx/pkg/adapter"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

func main() {
	cfg, err := demo.ConfigFromArgs(os.Args[1:], os.Getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "socketfx-demo:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// go-redis has one process-wide logger: its lines go to slog too.
	redis.SetLogger(adapter.NewRedisLogger(log))
	fx.New(
		demo.App(cfg),
		fx.Supply(log),
		fx.WithLogger(func() fxevent.Logger { return &fxevent.SlogLogger{Logger: log} }),
		// fx's default (15s) must hold the drain delay and the stop.
		fx.StopTimeout(demo.StopTimeout(cfg)),
	).Run()
}
