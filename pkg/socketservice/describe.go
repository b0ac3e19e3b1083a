package socketservice

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Description is what a server's services declare, read from their
// routers: the input of the contract generators (pkg/contract) and of
// documentation. Go types are reflect.Types; a nil type means socketfx
// cannot know (the arguments of an untyped handler).
type Description struct {
	// Namespaces are sorted by name.
	Namespaces []NamespaceDescription
}

// NamespaceKind tells how a service names its namespace.
type NamespaceKind string

// The kinds of namespace.
const (
	// NamespaceFixed is one namespace: Router.Namespace("/chat").
	NamespaceFixed NamespaceKind = "fixed"
	// NamespaceRoute is a route: Router.Namespace("/tenant/{id}").
	NamespaceRoute NamespaceKind = "route"
	// NamespacePattern is a regular expression: Router.NamespacePattern.
	NamespacePattern NamespaceKind = "pattern"
)

// NamespaceDescription is one service's namespace.
type NamespaceDescription struct {
	// Service is the service's Go type, e.g. "*chat.Service".
	Service string
	// Name is the fixed name ("/chat"), the route ("/tenant/{id:[0-9]+}")
	// or the regular expression (`/tenant-\d+`), as registered.
	Name string
	Kind NamespaceKind
	// Address is Name with each route parameter written {name}
	// ("/tenant/{id}"); for a pattern it is the expression.
	Address string
	// Params are the route's parameters, or the pattern's named groups,
	// in order.
	Params []ParamDescription
	// Auth is the handshake auth's type (Router.ExpectAuth), nil if not
	// declared.
	Auth reflect.Type
	// Events are the client-to-server events, sorted by name.
	Events []EventDescription
	// Emits are the server-to-client events, sorted by name.
	Emits []EmitDescription
	// Order is the service's place among the server's services: the
	// server tries fixed names first, then patterns in this order.
	Order int
}

// ParamDescription is a parameter of a route or pattern namespace.
type ParamDescription struct {
	Name string
	// Pattern is the parameter's regular expression ("[^/]+" by default
	// in routes), "" for a named group of a pattern.
	Pattern string
}

// EventDescription is a client-to-server event and its handler.
type EventDescription struct {
	Name string
	// Typed is false for an untyped handler (HandlerFunc), whose Args and
	// Result are nil.
	Typed bool
	// Args are the types of the handler's positional arguments.
	Args []reflect.Type
	// Result is the ack data's type: the handler's result, in the
	// {"status":"ok","data":…} envelope unless RawResponse.
	Result reflect.Type
	// RawResponse is WithRawResponse: the ack is the result itself.
	RawResponse bool
	// Errors are the error codes the client may get in the error
	// envelope, sorted: socketfx's own for this handler and those
	// declared with WithErrors.
	Errors []Code
}

// EmitDescription is a server-to-client event.
type EmitDescription struct {
	Name string
	// Payload is the type of the event's one argument, nil when not known
	// (the declared emit of an untyped handler).
	Payload reflect.Type
	// From are the client-to-server events whose declared emits send it
	// (WithEmit, WithBroadcast, …), sorted; empty when it was declared
	// with Router.Emits only.
	From []string
}

// Describe returns what the server's services declare. On a server that
// has not started, it runs each service's Register to read its router
// (Register should only declare, as it is documented to); on a started
// server it reads the routers built at start. It is how a contract is
// generated from an fx app that is built but never started.
func (s *Server) Describe() (Description, error) {
	s.mu.RLock()
	started := s.state != stateNew
	var defs []*serviceDef
	if started {
		defs = append(defs, s.defs...)
	}
	s.mu.RUnlock()
	if !started {
		var errs []error
		for _, svc := range s.services {
			if svc == nil {
				errs = append(errs, errors.New("socketservice: nil service"))
				continue
			}
			d := newServiceDef(svc)
			if err := d.err(); err != nil {
				errs = append(errs, err)
				continue
			}
			defs = append(defs, d)
		}
		if err := errors.Join(errs...); err != nil {
			return Description{}, err
		}
	}
	return describe(defs)
}

// Describe returns what svcs declare, as Server.Describe does for a server
// that serves them.
func Describe(svcs ...Service) (Description, error) {
	s := &Server{services: svcs}
	return s.Describe()
}

func describe(defs []*serviceDef) (Description, error) {
	var out Description
	var errs []error
	seen := map[string]string{}
	for i, d := range defs {
		nd, err := d.description()
		nd.Order = i
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := seen[nd.Name]; dup {
			errs = append(errs, fmt.Errorf("socketservice: services %s and %s both serve namespace %s", other, nd.Service, nd.Name))
			continue
		}
		seen[nd.Name] = nd.Service
		out.Namespaces = append(out.Namespaces, nd)
	}
	slices.SortFunc(out.Namespaces, func(a, b NamespaceDescription) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

func (d *serviceDef) description() (NamespaceDescription, error) {
	nd := NamespaceDescription{Service: d.owner, Name: d.name, Kind: NamespaceFixed, Address: d.name, Auth: d.auth}
	switch {
	case d.route:
		nd.Name, nd.Kind = d.patternSrc, NamespaceRoute
		nd.Address, nd.Params = routeAddress(d.patternSrc)
	case d.pattern != nil:
		nd.Name, nd.Kind, nd.Address = d.patternSrc, NamespacePattern, d.patternSrc
		for _, n := range d.pattern.SubexpNames() {
			if n != "" {
				nd.Params = append(nd.Params, ParamDescription{Name: n})
			}
		}
	}
	emits := map[string]*EmitDescription{}
	var errs []error
	addEmit := func(name string, t reflect.Type, from string) {
		e, ok := emits[name]
		if !ok {
			e = &EmitDescription{Name: name}
			emits[name] = e
		}
		switch {
		case t == nil:
		case e.Payload == nil:
			e.Payload = t
		case e.Payload != t:
			errs = append(errs, conflictingEmit(name, e.Payload, t))
		}
		if from != "" && !slices.Contains(e.From, from) {
			e.From = append(e.From, from)
		}
	}
	for _, name := range d.emitOrder {
		addEmit(name, d.emits[name], "")
	}
	events := make([]string, 0, len(d.routes))
	for e := range d.routes {
		events = append(events, e)
	}
	slices.Sort(events) // so that errors come in a stable order
	for _, name := range events {
		rt := d.routes[name]
		cfg := rt.options(rt.ancestry())
		ev := EventDescription{Name: rt.event, RawResponse: cfg.raw}
		codes := append([]Code{CodeInternal}, cfg.errors...)
		if t, ok := rt.handler.(*typed); ok {
			ev.Typed, ev.Args, ev.Result = true, t.in, t.out
			codes = append(codes, CodeValidation)
		}
		slices.Sort(codes)
		ev.Errors = slices.Compact(codes)
		nd.Events = append(nd.Events, ev)
		for _, e := range cfg.emits {
			if reservedEvents[e.event] {
				errs = append(errs, reservedEmit(e.event))
				continue
			}
			addEmit(e.event, ev.Result, rt.event)
		}
	}
	slices.SortFunc(nd.Events, func(a, b EventDescription) int { return strings.Compare(a.Name, b.Name) })
	for _, e := range emits {
		slices.Sort(e.From)
		nd.Emits = append(nd.Emits, *e)
	}
	slices.SortFunc(nd.Emits, func(a, b EmitDescription) int { return strings.Compare(a.Name, b.Name) })
	if err := errors.Join(errs...); err != nil {
		return nd, fmt.Errorf("socketservice: service %s: %w", d.owner, err)
	}
	return nd, nil
}

// routeAddress writes a route's parameters as {name} and returns them with
// their expressions.
func routeAddress(route string) (string, []ParamDescription) {
	var b strings.Builder
	var params []ParamDescription
	rest := route
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := closingBrace(rest, open)
		if end < 0 { // refused by compileRoute already
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		name, expr, custom := strings.Cut(rest[open+1:end], ":")
		if !custom {
			expr = defaultParamPattern
		}
		params = append(params, ParamDescription{Name: name, Pattern: expr})
		b.WriteString("{" + name + "}")
		rest = rest[end+1:]
	}
	return b.String(), params
}

var (
	errNilEmit   = errors.New("declared emit: nil event")
	errEmptyEmit = errors.New("declared emit: empty event name")
	errNilAuth   = errors.New("expected auth: nil example")
)

func reservedEmit(name string) error {
	return fmt.Errorf("emit %q: the name is reserved by Socket.IO", name)
}

func conflictingEmit(name string, a, b reflect.Type) error {
	return fmt.Errorf("emit %q declared with two payload types, %v and %v", name, a, b)
}
