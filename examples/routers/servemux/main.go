// Command servemux serves the rooms service and an HTTP route that pushes
// to a room on one port, with net/http's ServeMux.
package main

import (
	"net/http"

	"github.com/socketfx/socketfx/examples/routers/rooms"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// App is the whole app; main runs it on :3000.
func App() fx.Option {
	return fx.Options(
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: ":3000"}),
		socketservice.AsService(rooms.New),
		socketservice.AsHTTPHandler(func(srv *socketservice.Server) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/socket.io/", srv.Handler())
			mux.Handle("POST /announce", rooms.AnnounceHandler(srv))
			return mux
		}),
	)
}

func main() { fx.New(App()).Run() }
