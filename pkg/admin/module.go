package admin

import (
	"log/slog"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// uiParams is what UIModule's constructor takes from the app.
type uiParams struct {
	fx.In
	Logger  *slog.Logger `optional:"true"`
	Options UIOptions    `optional:"true"`
}

// UIOptions are options UIModule takes from the app, after its own: for
// what is known only when the app is built, such as a password from a
// flag (provide a func(Config) (admin.UIOptions, error)).
type UIOptions []UIOption

// UIModule serves the Admin UI's protocol under fx: it provides the *UI,
// gives it to the server as a service and a monitor, and starts and stops
// its reports with the app. The app's *slog.Logger, if it provides one,
// is the UI's logger unless an option names another.
//
//	fx.New(
//		socketservice.Module,
//		admin.UIModule(admin.WithBasicAuth("admin", hash)),
//	)
func UIModule(opts ...UIOption) fx.Option {
	return fx.Module("admin-ui",
		fx.Provide(func(p uiParams) (*UI, error) {
			var all []UIOption
			if p.Logger != nil {
				all = append(all, WithUILogger(p.Logger))
			}
			all = append(append(all, opts...), p.Options...)
			return NewUI(all...)
		}),
		fx.Provide(
			fx.Annotate(func(u *UI) socketservice.Service { return u }, fx.ResultTags(`group:"`+socketservice.ServicesGroup+`"`)),
			fx.Annotate(func(u *UI) socketservice.Monitor { return u }, fx.ResultTags(`group:"`+socketservice.MonitorsGroup+`"`)),
		),
		fx.Invoke(func(lc fx.Lifecycle, u *UI, srv *socketservice.Server) {
			lc.Append(fx.StartStopHook(func() error { return u.Start(srv) }, u.Stop))
		}),
	)
}
