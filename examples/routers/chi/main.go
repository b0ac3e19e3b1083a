// Command chi serves the rooms service and an HTTP route that pushes to a
// room on one port, with github.com/go-chi/chi/v5.
package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
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
			r := chi.NewRouter()
			r.Handle("/socket.io/*", srv.Handler())
			r.Post("/announce", rooms.AnnounceHandler(srv))
			return r
		}),
	)
}

func main() { fx.New(App()).Run() }
