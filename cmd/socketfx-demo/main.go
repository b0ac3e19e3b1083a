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
	"github.com/socketfx/socketfx/pkg/contract"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

func main() {
	// socketfx-demo contract [-format asyncapi|typescript|jsonschema] [-o FILE]
	// writes the contract the running demo serves, without starting it.
	if len(os.Args) > 1 && os.Args[1] == "contract" {
		app := fx.Options(demo.App(demo.Config{}), fx.Supply(slog.New(slog.NewTextHandler(os.Stderr, nil))))
		if err := contract.Command(os.Args[2:], os.Stdout, app, demo.ContractOptions()...); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "socketfx-demo contract:", err)
				os.Exit(1)
			}
		}
		return
	}
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
