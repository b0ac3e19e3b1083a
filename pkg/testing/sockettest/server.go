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
// of the Config…). It fails the test if the app does not start, and stops
// the app in the test's cleanup. Works with *testing.T and GinkgoT().
func NewServer(tb TB, options ...fx.Option) *Server {
	s := &Server{}
	s.app = fxtest.New(tb,
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
		fx.Options(options...),
		fx.Populate(&s.Socket),
		fx.NopLogger,
	)
	s.app.RequireStart()
	s.URL = "http://" + s.Socket.Addr()
	tb.Cleanup(s.Close)
	return s
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
