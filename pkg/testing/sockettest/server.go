package sockettest

import (
	"context"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// Server is a socketfx app started for a test, like httptest.Server: it
// listens on 127.0.0.1 on a free port and stops when the test ends.
type Server struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Socket is the running *socketservice.Server, for namespace handles.
	Socket *socketservice.Server
	app    *fxtest.App
}

// TB is what NewServer needs of a test: *testing.T, *testing.B and
// GinkgoT() all have it.
type TB interface {
	fxtest.TB
	Cleanup(func())
}

// NewServer starts an fx app made of socketservice.Module, a Config
// listening on 127.0.0.1:0, and options (your services, fakes, fx.Decorate
// of the Config…). When the options supply a socketservice.Config of their
// own (your app's module, say), that one is used, its Addr replaced with
// 127.0.0.1:0. It fails the test if the app does not start, and stops the
// app in the test's cleanup. Works with *testing.T and GinkgoT().
func NewServer(tb TB, options ...fx.Option) *Server {
	s := &Server{}
	config := fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"})
	if suppliesConfig(options) {
		config = fx.Decorate(func(c socketservice.Config) socketservice.Config {
			c.Addr = "127.0.0.1:0"
			return c
		})
	}
	s.app = fxtest.New(tb,
		socketservice.Module,
		config,
		fx.Options(options...),
		fx.Populate(&s.Socket),
		fx.NopLogger,
	)
	s.app.RequireStart()
	s.URL = "http://" + s.Socket.Addr()
	tb.Cleanup(s.Close)
	return s
}

// suppliesConfig reports whether options provide a socketservice.Config:
// the graph is valid with options alone and a Config is asked for.
func suppliesConfig(options []fx.Option) bool {
	probe := fx.Options(socketservice.Module, fx.Options(options...), fx.Invoke(func(socketservice.Config) {}), fx.NopLogger)
	return fx.ValidateApp(probe) == nil
}

// Connect connects a test client to namespace on this server.
func (s *Server) Connect(ctx context.Context, namespace string, opts ...Option) (*Client, error) {
	return Connect(ctx, s.URL, namespace, opts...)
}

// Close stops the app; calling it more than once is harmless.
func (s *Server) Close() {
	if s.app != nil {
		s.app.RequireStop()
		s.app = nil
	}
}
