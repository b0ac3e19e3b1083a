// Command gin serves the rooms service and an HTTP route that pushes to a
// room on one port, with github.com/gin-gonic/gin.
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
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
			g := gin.New()
			g.Any("/socket.io/*any", gin.WrapH(srv.Handler()))
			g.POST("/announce", gin.WrapF(rooms.AnnounceHandler(srv)))
			return g
		}),
	)
}

func main() { fx.New(App()).Run() }
