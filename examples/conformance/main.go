package main

import (
	"context"
	"flag"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// Echo serves one namespace the way the reference server does.
type Echo struct{ name string }

// Register binds Echo to its namespace.
func (e *Echo) Register(r *socketservice.Router) {
	r.Namespace(e.name)
	r.OnConnect(func(ctx context.Context, s *socketservice.Socket) error {
		return s.Emit("auth", s.Handshake().Auth)
	})
	r.HandleFunc("message", func(ctx context.Context, msg *socketservice.Message) (any, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		return nil, s.Emit("message-back", msg.Args...)
	})
	r.HandleFunc("message-with-ack", func(ctx context.Context, msg *socketservice.Message) (any, error) {
		return socketservice.Args(msg.Args), nil
	}, socketservice.WithRawResponse())
}

// Config is the reference server's configuration, listening on addr.
func Config(addr string) socketservice.Config {
	return socketservice.Config{
		Addr:           addr,
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		MaxPayload:     1_000_000,
		ConnectTimeout: 1000 * time.Millisecond,
		CORS:           &socketservice.CORSConfig{Origins: []string{"*"}},
	}
}

// Module is the conformance app listening on addr.
func Module(addr string) fx.Option {
	return fx.Options(
		socketservice.Module,
		fx.Supply(Config(addr)),
		socketservice.AsService(func() *Echo { return &Echo{name: "/"} }),
		fx.Provide(fx.Annotate(func() socketservice.Service { return &Echo{name: "/custom"} }, fx.ResultTags(`group:"socketfx.services"`))),
	)
}

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	flag.Parse()
	fx.New(Module(*addr), fx.NopLogger).Run()
}
