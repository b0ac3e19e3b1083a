package socketservice_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// Greeting is the payload of the example's hello event.
type Greeting struct {
	Name string `json:"name" validate:"required"`
}

// Greeter serves /greet and, as a route, /tenant/{id}.
type Greeter struct{}

func (Greeter) Register(r *socketservice.Router) {
	r.Namespace("/greet")
	r.Handle("hello", socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, in Greeting) (string, error) {
		return "hello, " + in.Name, nil
	}))
}

// Tenant serves the route /tenant/{id}.
type Tenant struct{}

func (Tenant) Register(r *socketservice.Router) {
	r.Namespace("/tenant/{id}")
	r.Handle("whoami", socketservice.TypedSocket0(func(ctx context.Context, s *socketservice.Socket) (string, error) {
		return "tenant " + s.Param("id"), nil
	}))
}

// startApp starts an fx app with the options on a free port and returns
// its server and a stop function.
func startApp(opts ...fx.Option) (*socketservice.Server, func()) {
	var srv *socketservice.Server
	app := fx.New(
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
		fx.Options(opts...),
		fx.Populate(&srv),
		fx.NopLogger,
	)
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	return srv, func() { _ = app.Stop(context.Background()) }
}

// exampleClient connects a client to the namespace of srv.
func exampleClient(srv *socketservice.Server, namespace string) *sockettest.Client {
	c, err := sockettest.Connect(context.Background(), "http://"+srv.Addr(), namespace)
	if err != nil {
		panic(err)
	}
	return c
}

// A service, the fx app that serves it, and a client's acks: the result,
// and the validation error of an empty name.
func Example() {
	srv, stop := startApp(socketservice.AsService(func() Greeter { return Greeter{} }))
	defer stop()

	ctx := context.Background()
	c := exampleClient(srv, "/greet")
	defer c.Close()
	var out string
	fmt.Println(c.Call(ctx, "hello", Greeting{Name: "Ann"}, &out), out)
	var ackErr *sockettest.AckError
	if err := c.Call(ctx, "hello", Greeting{}, &out); errors.As(err, &ackErr) {
		fmt.Println(ackErr.Code, ackErr.Message)
	}
	// Output:
	// <nil> hello, Ann
	// VALIDATION_PAYLOAD_ERROR name is required
}

// A route-style namespace: every /tenant/<id> is served, and the handler
// reads the parameter.
func ExampleRouter_Namespace() {
	srv, stop := startApp(socketservice.AsService(func() Tenant { return Tenant{} }))
	defer stop()

	ctx := context.Background()
	c := exampleClient(srv, "/tenant/acme")
	defer c.Close()
	var out string
	_ = c.Call(ctx, "whoami", nil, &out)
	fmt.Println(out, srv.Children("/tenant/{id}"))
	// Output: tenant acme [/tenant/acme]
}

// An HTTP route on the socket server's own listener that pushes to every
// socket of a namespace.
func ExampleAsHTTPRoute() {
	srv, stop := startApp(
		socketservice.AsService(func() Greeter { return Greeter{} }),
		socketservice.AsHTTPRoute(func(srv *socketservice.Server) socketservice.HTTPRoute {
			return socketservice.NewHTTPRoute("POST /wave", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = srv.Of("/greet").Emit("wave", "from HTTP")
				w.WriteHeader(http.StatusAccepted)
			}))
		}),
	)
	defer stop()

	ctx := context.Background()
	c := exampleClient(srv, "/greet")
	defer c.Close()
	res, err := http.Post("http://"+srv.Addr()+"/wave", "text/plain", nil)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	ev, _ := c.Next(ctx)
	fmt.Println(res.StatusCode, ev.Name, ev.Args)
	// Output: 202 wave [from HTTP]
}

// Error translation is ordinary middleware: what the outermost middleware
// returns is what the client gets.
func ExampleMiddleware() {
	errNoRoom := errors.New("no such room")
	translate := func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			out, err := next(ctx, m)
			if errors.Is(err, errNoRoom) {
				return nil, socketservice.NewError(socketservice.CodeNotFound, "no such room")
			}
			return out, err
		}
	}
	ev := sockettest.NewEventContext("/rooms", "enter")
	_, err := ev.Call(socketservice.HandlerFunc(translate(func(ctx context.Context, m *socketservice.Message) (any, error) {
		return nil, errNoRoom
	})))
	fmt.Println(socketservice.CodeOf(err), err)
	// Output: NOT_FOUND NOT_FOUND: no such room
}

func ExampleNewError() {
	err := socketservice.NewError("ORDER_CLOSED", "the order is closed").WithData("orderId", 42)
	fmt.Println(socketservice.CodeOf(err), socketservice.CodeOf(errors.New("boom")))
	// Output: ORDER_CLOSED INTERNAL_SERVER_ERROR
}

// Connection limits per client address, behind a proxy that appends the
// client's address to X-Forwarded-For: 20 connections open at once, 5 new
// ones a second (bursts of 10). Past them, 429.
func ExampleConnLimits() {
	cfg := socketservice.Config{
		Addr: "127.0.0.1:0",
		Limits: &socketservice.ConnLimits{
			MaxPerIP:       20,
			RatePerIP:      5,
			BurstPerIP:     10,
			ClientIPHeader: "X-Forwarded-For",
		},
	}
	srv, err := socketservice.New(cfg, socketservice.WithServices(Greeter{}))
	if err != nil {
		panic(err)
	}
	fmt.Println(srv.Config().Limits.MaxPerIP)
	// Output: 20
}
