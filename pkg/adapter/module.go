package adapter

import (
	"context"
	"errors"
	"log/slog"

	"github.com/socketfx/socketfx/pkg/health"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/session/redisstore"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// Params are the adapter's dependencies under fx.
type Params struct {
	fx.In

	Lifecycle fx.Lifecycle
	Config    Config                `optional:"true"`
	Client    redis.UniversalClient `optional:"true"`
	Logger    *slog.Logger          `optional:"true"`
}

// NewFx builds the adapter for fx and ties it to the app's lifecycle: it
// connects before the socket server starts and closes after it stopped.
// A redis.UniversalClient in the graph is used instead of Config.URL.
func NewFx(p Params) (*Redis, error) {
	opts := []Option{WithLogger(p.Logger)}
	if p.Client != nil {
		opts = append(opts, WithClient(p.Client))
	}
	if p.Config.URL == "" && p.Client == nil {
		return nil, errors.New("adapter.Module has no Redis to join: supply one, e.g. " +
			"fx.Supply(adapter.Config{URL: \"redis://127.0.0.1:6379\"}), or provide a redis.UniversalClient " +
			"(without adapter.Module the server runs as a single node)")
	}
	r, err := New(p.Config, opts...)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StartStopHook(r.Start, r.Stop))
	return r, nil
}

// Sessions provides a session.Store in the adapter's Redis
// (pkg/session/redisstore), which a cluster with
// socketservice.Config.Recovery needs: a client that comes back to another
// node finds its session there.
//
//	fx.New(socketservice.Module, adapter.Module, adapter.Sessions, …)
var Sessions = fx.Provide(func(r *Redis) session.Store { return redisstore.New(r.Client()) })

// Module provides *Redis and, as socketservice.Cluster, joins the socket
// server to the cluster. Supply a Config:
//
//	fx.New(
//		socketservice.Module,
//		adapter.Module,
//		fx.Supply(adapter.Config{URL: "redis://127.0.0.1:6379"}),
//		…
//	)
//
// Without a Redis to join (neither Config.URL nor a redis.UniversalClient
// in the graph) the app fails to start with a message saying what to
// supply: a node that silently ran alone would split the cluster.
var Module = fx.Module("adapter",
	fx.Provide(
		NewFx,
		func(r *Redis) socketservice.Cluster { return r },
	),
	// Built even when nothing asks for it, so that a missing Config is an
	// error rather than a node that runs alone (socketservice takes its
	// Cluster as optional).
	fx.Invoke(func(*Redis) {}),
	// /readyz (pkg/health) reports "degraded" while Redis is away: local
	// clients are still served.
	health.AsCheck(func(r *Redis) health.Check {
		return health.Check{Name: "redis", Degrades: true, Check: func(context.Context) error { return r.Health() }}
	}),
)
