package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

type params struct {
	fx.In

	Registry *prometheus.Registry `optional:"true"`
}

// NewFx builds the Metrics for fx: on the app's *prometheus.Registry if
// one is provided, on a new one otherwise.
func NewFx(p params) (*Metrics, error) {
	var opts []Option
	if p.Registry != nil {
		opts = append(opts, WithRegistry(p.Registry))
	}
	return New(opts...)
}

// Module is Collect and serves GET /metrics on the socket server's own
// listener (Config.Addr, socketservice.AsHTTPRoute).
var Module = fx.Module("metrics",
	Collect,
	socketservice.AsHTTPRoute(func(m *Metrics) socketservice.HTTPRoute {
		return socketservice.NewHTTPRoute("GET /metrics", m.Handler())
	}),
)

// Collect provides *Metrics and makes it an observer of the socket server,
// without serving it: for an app with its own router
// (socketservice.AsHTTPHandler, or its own http.Server), which mounts
// Metrics.Handler itself:
//
//	mux.Handle("GET /metrics", m.Handler())
var Collect = fx.Options(
	fx.Provide(NewFx),
	socketservice.AsObserver(func(m *Metrics) *Metrics { return m }),
	fx.Invoke(func(m *Metrics, s *socketservice.Server) { m.Attach(s) }),
)
