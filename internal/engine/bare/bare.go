package bare

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Payload is what the load and the benchmark send.
type Payload struct {
	Text string `json:"text"`
	N    int    `json:"n"`
}

// Server is a running echo server.
type Server struct {
	URL  string
	stop func()
}

// Close stops the server.
func (s *Server) Close() { s.stop() }

// StartEngine starts a bare engine echo server on 127.0.0.1.
func StartEngine() (*Server, error) {
	io := socket.NewServer(nil, nil)
	_ = io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		_ = s.On("echo", func(args ...any) {
			if ack, ok := args[len(args)-1].(socket.Ack); ok {
				ack(args[:len(args)-1], nil)
			}
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: io.ServeHandler(nil), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &Server{URL: "http://" + ln.Addr().String(), stop: func() {
		io.Close(nil)
		_ = hs.Close()
	}}, nil
}

type echo struct{}

func (echo) Register(r *socketservice.Router) {
	r.Namespace("/")
	r.Handle("echo", socketservice.Typed(func(ctx context.Context, in Payload) (Payload, error) { return in, nil }))
}

// StartSocketfx starts a socketfx echo server on 127.0.0.1.
func StartSocketfx(opts ...socketservice.ServerOption) (*Server, error) {
	srv, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0"}, append([]socketservice.ServerOption{socketservice.WithServices(echo{})}, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(context.Background()); err != nil {
		return nil, err
	}
	return &Server{URL: "http://" + srv.Addr(), stop: func() { _ = srv.Stop(context.Background()) }}, nil
}
