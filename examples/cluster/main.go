package main

import (
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"time"

	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// Live is a socket service: clients on any node join topics and receive
// what is published to them from any node.
type Live struct{}

type Topic struct {
	Topic string `json:"topic"`
}

func (l *Live) Register(r *socketservice.Router) {
	r.Namespace("/live")
	r.Handle("subscribe", socketservice.Typed(func(ctx context.Context, in Topic) (string, error) {
		if in.Topic == "" {
			return "", socketservice.NewError(socketservice.CodeValidation, "topic is required")
		}
		s, _ := socketservice.SocketFromContext(ctx)
		s.Join(in.Topic)
		return in.Topic, nil
	}))
}

// Publish is POST /publish {"topic": "…", "data": …}: an HTTP handler with
// an injected namespace handle, reaching subscribers on every node.
func Publish(srv *socketservice.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Topic string `json:"topic"`
			Data  any    `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Topic == "" {
			http.Error(w, "want {topic, data}", http.StatusBadRequest)
			return
		}
		if err := srv.Of("/live").To(in.Topic).Emit("update", in.Data); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// Listener is the node's HTTP server: the socket server and POST /publish
// on one port.
type Listener struct{ Addr string }

func newListener(lc fx.Lifecycle, addr string, srv *socketservice.Server) *Listener {
	mux := http.NewServeMux()
	mux.Handle(srv.Config().Path+"/", srv.Handler())
	mux.Handle("POST /publish", Publish(srv))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	l := &Listener{}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			l.Addr = ln.Addr().String()
			go func() { _ = hs.Serve(ln) }()
			return nil
		},
		OnStop: hs.Shutdown,
	})
	return l
}

// Node is one cluster node listening on addr, joined through redisURL.
func Node(addr, redisURL string) fx.Option {
	return fx.Options(
		socketservice.Module,
		adapter.Module,
		fx.Supply(adapter.Config{URL: redisURL}),
		socketservice.AsService(func() *Live { return &Live{} }),
		fx.Provide(func(lc fx.Lifecycle, srv *socketservice.Server) *Listener { return newListener(lc, addr, srv) }),
		fx.Invoke(func(*Listener) {}),
	)
}

func main() {
	addr := flag.String("addr", ":3001", "listen address")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379", "Redis shared by the nodes")
	flag.Parse()
	fx.New(Node(*addr, *redisURL)).Run()
}
