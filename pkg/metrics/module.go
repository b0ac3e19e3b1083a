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

// Module provides *Metrics, makes it an observer of the socket server, and
// serves GET /metrics on the server's own listener (Config.Addr). With
// your own router (socketservice.AsHTTPHandler or your own server), mount
// Metrics.Handler instead:
//
//	mux.Handle("GET /metrics", m.Handler())
var Module = fx.Module("metrics",
	fx.Provide(NewFx),
	socketservice.AsObserver(func(m *Metrics) *Metrics { return m }),
	fx.Invoke(func(m *Metrics, s *socketservice.Server) { m.Attach(s) }),
	socketservice.AsHTTPRoute(func(m *Metrics) socketservice.HTTPRoute {
		return socketservice.NewHTTPRoute("GET /metrics", m.Handler())
	}),
)
