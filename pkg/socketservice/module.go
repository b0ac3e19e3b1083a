package socketservice

import (
	"fmt"
	"log/slog"
	"reflect"

	"github.com/socketfx/socketfx/pkg/session"

	"go.uber.org/fx"
)

// ServicesGroup is the fx value group AsService provides into.
const ServicesGroup = "socketfx.services"

// GlobalMiddleware is middleware around every handler of every service,
// outermost first. Supply it once: fx.Supply(socketservice.GlobalMiddleware{…}).
// (fx value groups have no order, and middleware order matters, so this is
// one value rather than a group.)
type GlobalMiddleware []Middleware

// GlobalAfterHooks run after the response of every handler of every
// service, after the services' own (see AfterHook). Supply them once:
// fx.Supply(socketservice.GlobalAfterHooks{…}).
type GlobalAfterHooks []AfterHook

// GlobalConnectMiddleware wraps the connection of every namespace, outside
// the namespace's own connection middleware (Router.UseConnect). Supply it
// once: fx.Supply(socketservice.GlobalConnectMiddleware{…}).
type GlobalConnectMiddleware []ConnectMiddleware

// Params are the Server's dependencies under fx.
type Params struct {
	fx.In

	Lifecycle  fx.Lifecycle
	Config     Config                  `optional:"true"`
	Services   []Service               `group:"socketfx.services"`
	Middleware GlobalMiddleware        `optional:"true"`
	After      GlobalAfterHooks        `optional:"true"`
	ConnectMW  GlobalConnectMiddleware `optional:"true"`
	Validator  InputValidator          `optional:"true"`
	Allow      AllowRequest            `optional:"true"`
	Logger     *slog.Logger            `optional:"true"`
	Cluster    Cluster                 `optional:"true"`
	Store      session.Store           `optional:"true"`
	Observers  []Observer              `group:"socketfx.observers"`
	Monitors   []Monitor               `group:"socketfx.monitors"`
}

// ObserversGroup is the fx value group AsObserver provides into.
const ObserversGroup = "socketfx.observers"

// AsObserver provides the result of constructor (an Observer, and an
// error last if it likes) to the server's observers; metrics.Module uses
// it. Several observers all see everything.
func AsObserver(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.As(new(Observer)), fx.ResultTags(`group:"`+ObserversGroup+`"`)))
}

// NewFx builds the Server for fx (Module provides it) and ties it to the app's lifecycle: it
// starts on fx start and stops gracefully on fx stop.
func NewFx(p Params) (*Server, error) {
	s, err := New(p.Config, WithLogger(p.Logger), WithServices(p.Services...), WithGlobalMiddleware(p.Middleware...), WithGlobalAfterHooks(p.After...), WithGlobalConnectMiddleware(p.ConnectMW...), WithInputValidator(p.Validator), WithAllowRequest(p.Allow), WithCluster(p.Cluster), WithSessionStore(p.Store), WithObservers(p.Observers...), WithMonitors(p.Monitors...))
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StartStopHook(s.Start, s.Stop))
	return s, nil
}

// Module provides *Server and starts it with the app. Supply a Config to
// change the defaults, and add services with AsService.
//
//	fx.New(
//		socketservice.Module,
//		fx.Supply(socketservice.Config{Addr: ":3000"}),
//		socketservice.AsService(NewChat),
//	)
var Module = fx.Module("socketservice",
	fx.Provide(NewFx),
	fx.Invoke(serveApp),
)

var serviceType = reflect.TypeFor[Service]()

// AsService provides the result of a constructor both as itself (so HTTP
// handlers and other constructors can inject the service, e.g. *Chat) and
// as a Service in the group the server reads. The constructor's first
// result must implement Service; it may take fx dependencies and return an
// error last, like any fx constructor.
func AsService(constructor any) fx.Option {
	t := reflect.TypeOf(constructor)
	if t == nil || t.Kind() != reflect.Func || t.NumOut() == 0 {
		return fx.Error(fmt.Errorf("socketservice: AsService wants a constructor function, got %T", constructor))
	}
	out := t.Out(0)
	if !out.Implements(serviceType) {
		return fx.Error(fmt.Errorf("socketservice: AsService: %s does not implement socketservice.Service (it needs a Register(*socketservice.Router) method)", out))
	}
	asService := reflect.MakeFunc(
		reflect.FuncOf([]reflect.Type{out}, []reflect.Type{serviceType}, false),
		func(args []reflect.Value) []reflect.Value {
			return []reflect.Value{args[0].Convert(serviceType)}
		},
	).Interface()
	return fx.Options(
		fx.Provide(constructor),
		fx.Provide(fx.Annotate(asService, fx.ResultTags(`group:"`+ServicesGroup+`"`))),
	)
}
