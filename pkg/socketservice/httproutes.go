package socketservice

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"go.uber.org/fx"
)

// HTTPRoutesGroup is the fx value group of the HTTPRoutes served on the
// server's own listener; AsHTTPRoute adds to it.
const HTTPRoutesGroup = "socketfx.routes"

// httpHandlerName names the app's root handler in the fx graph (AsHTTPHandler).
const httpHandlerName = "socketfx.http"

// HTTPRoute is an HTTP handler the server's own listener (Config.Addr)
// serves beside Socket.IO, at its Pattern: net/http ServeMux syntax, with
// an optional method and wildcards ("POST /api/notify", "GET /items/{id}").
type HTTPRoute interface {
	http.Handler
	Pattern() string
}

// NewHTTPRoute returns the HTTPRoute serving h at pattern.
func NewHTTPRoute(pattern string, h http.Handler) HTTPRoute { return httpRoute{pattern, h} }

type httpRoute struct {
	pattern string
	http.Handler
}

func (r httpRoute) Pattern() string { return r.pattern }

// AsHTTPRoute provides a constructor's HTTPRoute to the server's own
// listener, as fx's documentation does for its own routes. The constructor
// may take fx dependencies (the *Server, to push to rooms) and return an
// error last:
//
//	socketservice.AsHTTPRoute(func(srv *socketservice.Server) socketservice.HTTPRoute {
//		return socketservice.NewHTTPRoute("POST /announce", announce(srv))
//	})
//
// The routes need Config.Addr; a conflicting pattern fails the start.
func AsHTTPRoute(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.As(new(HTTPRoute)), fx.ResultTags(`group:"`+HTTPRoutesGroup+`"`)))
}

// AsHTTPHandler makes the constructor's http.Handler (a chi, gin or echo
// router, an http.ServeMux…) the whole of what the server's own listener
// (Config.Addr) serves, in place of the server's mux, so that an app needs
// no listener and lifecycle code of its own. The handler must mount
// Server.Handler() at Config.Path itself:
//
//	socketservice.AsHTTPHandler(func(srv *socketservice.Server) http.Handler {
//		r := chi.NewRouter()
//		r.Handle("/socket.io/*", srv.Handler())
//		r.Post("/announce", announce(srv))
//		return r
//	})
//
// It cannot be combined with AsHTTPRoute (mount those routes on the
// handler). To serve socketfx on a server of your own instead, leave
// Config.Addr empty and mount Server.Handler().
func AsHTTPHandler(constructor any) fx.Option {
	t := reflect.TypeOf(constructor)
	if t == nil || t.Kind() != reflect.Func || t.NumOut() == 0 || !t.Out(0).Implements(reflect.TypeFor[http.Handler]()) {
		return fx.Error(fmt.Errorf("socketservice: AsHTTPHandler wants a constructor of an http.Handler, got %T", constructor))
	}
	return fx.Provide(fx.Annotate(constructor, fx.As(new(http.Handler)), fx.ResultTags(`name:"`+httpHandlerName+`"`)))
}

// httpParams are the app's HTTP routes under fx, resolved after the Server
// exists (their constructors may inject it).
type httpParams struct {
	fx.In

	Server *Server
	Routes []HTTPRoute  `group:"socketfx.routes"`
	Root   http.Handler `name:"socketfx.http" optional:"true"`
}

func serveApp(p httpParams) error { return p.Server.setHTTP(p.Root, p.Routes) }

// WithHTTPRoutes serves routes on the server's own listener beside
// Socket.IO (see HTTPRoute); for New without fx.
func WithHTTPRoutes(routes ...HTTPRoute) ServerOption {
	return serverOptionFunc(func(s *Server) { s.routes = append(s.routes, routes...) })
}

// setHTTP sets what the server's own listener serves; before Start only.
func (s *Server) setHTTP(root http.Handler, routes []HTTPRoute) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("socketservice: HTTP routes must be set before Start")
	}
	s.root = root
	s.routes = append(s.routes, routes...)
	return nil
}

// httpHandler builds what the server's own listener serves.
func (s *Server) httpHandler() (h http.Handler, err error) {
	switch {
	case s.root != nil && len(s.routes) > 0:
		return nil, errors.New("socketservice: both AsHTTPHandler and AsHTTPRoute were given: mount the routes on your handler")
	case s.root != nil:
		return s.root, nil
	case len(s.routes) == 0:
		return s.Handler(), nil
	}
	mux := http.NewServeMux()
	mux.Handle(s.cfg.Path+"/", s.Handler())
	for _, r := range s.routes {
		if err := handle(mux, r); err != nil {
			return nil, err
		}
	}
	return mux, nil
}

// handle registers r, turning ServeMux's panic on a bad or conflicting
// pattern into an error.
func handle(mux *http.ServeMux, r HTTPRoute) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("socketservice: HTTP route %q: %v", r.Pattern(), p)
		}
	}()
	mux.Handle(r.Pattern(), r)
	return nil
}
