package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/socketfx/socketfx/pkg/metrics"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

type hello struct{}

func (hello) Register(r *socketservice.Router) {
	r.Namespace("/")
	r.Handle("hi", socketservice.Typed0(func(context.Context) (string, error) { return "hello", nil }))
}

// Under fx, metrics.Module observes the socket server and serves GET
// /metrics on its listener.
func ExampleModule() {
	var srv *socketservice.Server
	app := fx.New(
		fx.NopLogger,
		socketservice.Module,
		metrics.Module,
		fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
		socketservice.AsService(func() hello { return hello{} }),
		fx.Populate(&srv),
	)
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	defer app.Stop(context.Background()) //nolint:errcheck // an example

	res, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, strings.Contains(string(body), `socketfx_connections{transport="websocket"} 0`))
	// Output: 200 true
}

// Without fx: New, WithObservers, and Handler on your own mux.
func ExampleNew() {
	m, err := metrics.New()
	if err != nil {
		panic(err)
	}
	srv, err := socketservice.New(socketservice.Config{}, socketservice.WithServices(hello{}), socketservice.WithObservers(m))
	if err != nil {
		panic(err)
	}
	m.Attach(srv)
	if err := srv.Start(context.Background()); err != nil {
		panic(err)
	}
	defer srv.Stop(context.Background()) //nolint:errcheck // an example

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv.Handler())
	mux.Handle("GET /metrics", m.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "socketfx_build_info"))
	// Output: 200 true
}
