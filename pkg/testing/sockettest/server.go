package sockettest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

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
	tb     TB
	client *http.Client // Request's, its idle connections closed by Close
}

// TB is what NewServer needs of a test: *testing.T, *testing.B and
// GinkgoT() all have it.
type TB interface {
	fxtest.TB
	Cleanup(func())
}

// NewServer starts an fx app made of socketservice.Module, a Config
// listening on 127.0.0.1:0, and options (your services, fakes, fx.Decorate
// of the Config…). The options may also be your whole app, with its own
// socketservice.Module and Config: those are used, the Config's Addr
// replaced with 127.0.0.1:0. It fails the test if the app does not start, and stops the
// app in the test's cleanup. Works with *testing.T and GinkgoT().
func NewServer(tb TB, options ...fx.Option) *Server {
	s := &Server{tb: tb, client: &http.Client{Transport: &http.Transport{}}}
	// The options may be a whole app: its own socketservice.Module and
	// Config (main's fx options), which are then used as they are.
	base := []fx.Option{socketservice.Module}
	if valid(options, fx.Invoke(func(*socketservice.Server) {})) {
		base = nil
	}
	config := fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"})
	if valid(append(base, options...), fx.Invoke(func(socketservice.Config) {})) {
		config = fx.Decorate(func(c socketservice.Config) socketservice.Config {
			c.Addr = "127.0.0.1:0"
			return c
		})
	}
	s.app = fxtest.New(tb,
		fx.Options(base...),
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

// valid reports whether the options, with check, make a valid fx graph
// (nothing is constructed).
func valid(options []fx.Option, check fx.Option) bool {
	return fx.ValidateApp(fx.Options(options...), check, fx.NopLogger) == nil
}

// Request sends an HTTP request to the app's own routes on this server
// (socketservice.AsHTTPRoute, AsHTTPHandler), path being e.g.
// "/api/notify". A string or []byte body is sent as it is; any other
// non-nil body as JSON, with Content-Type application/json. The response
// body is closed when the test ends; Gomega's HaveHTTPStatus and
// HaveHTTPBody read it:
//
//	Expect(srv.Request(ctx, "POST", "/announce", Announcement{Room: "go"})).To(HaveHTTPStatus(http.StatusAccepted))
func (s *Server) Request(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("sockettest: request body: %w", err)
		}
		r, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, r)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	s.tb.Cleanup(func() { _ = res.Body.Close() })
	return res, nil
}

// Connect connects a test client to namespace on this server.
func (s *Server) Connect(ctx context.Context, namespace string, opts ...Option) (*Client, error) {
	return Connect(ctx, s.URL, namespace, opts...)
}

// Close stops the app; calling it more than once is harmless.
func (s *Server) Close() {
	s.client.CloseIdleConnections()
	if s.app != nil {
		s.app.RequireStop()
		s.app = nil
	}
}
