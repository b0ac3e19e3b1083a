// Command echo serves the rooms service and an HTTP route that pushes to a
// room on one port, with github.com/labstack/echo/v4.
package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
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
			e := echo.New()
			e.Any("/socket.io/*", echo.WrapHandler(srv.Handler()))
			e.POST("/announce", echo.WrapHandler(rooms.AnnounceHandler(srv)))
			return e
		}),
	)
}

func main() { fx.New(App()).Run() }
