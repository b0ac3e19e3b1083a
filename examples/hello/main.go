package main

import (
	"context"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

type Greeting struct {
	Name string `json:"name" validate:"required"`
}

type Greeter struct{}

func (g *Greeter) Register(r *socketservice.Router) {
	r.Namespace("/greet")
	r.Handle("hello", socketservice.Typed(g.hello), socketservice.WithBroadcastOthers("greeted"))
}

func (g *Greeter) hello(ctx context.Context, in Greeting) (string, error) {
	return "hello, " + in.Name, nil
}

func main() {
	fx.New(
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: ":3000"}),
		socketservice.AsService(func() *Greeter { return &Greeter{} }),
	).Run()
}
