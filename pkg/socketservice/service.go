package socketservice

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Service is a socket service: a Go type bound to a namespace that declares
// its handlers and hooks on the Router it is given. Register runs once, when
// the fx app starts; mistakes (no namespace, a bad pattern, a duplicate
// event) make the start fail with an error naming the service.
//
//	type Chat struct{ repo *Repo }
//
//	func (c *Chat) Register(r *socketservice.Router) {
//		r.Namespace("/chat")
//		r.OnConnect(c.connect)
//		r.Handle("chat:message", socketservice.Typed(c.message))
//	}
type Service interface {
	Register(r *Router)
}

// ConnectHook runs for each socket before its client is told it is
// connected (Router.OnConnect). It may join rooms, set data, and emit:
// emits are held and sent right after the CONNECT packet (EmitWithAck must
// wait for a handler). A non-nil error rejects the connection: the client
// gets connect_error with the error's message and {code, …} as data, and no
// disconnect hook runs.
type ConnectHook func(ctx context.Context, s *Socket) error

// ConnectMiddleware wraps the connection of a socket, as Middleware wraps
// an event: code before next runs first (authenticate, refuse by returning
// an error without calling next), code after it sees the error of the
// hooks inside and may replace it. Global connection middleware is the
// outermost, then the service's (Router.UseConnect), then the OnConnect
// hooks. Connection middleware is skipped for a recovered socket when
// RecoveryConfig.SkipMiddlewares is set; OnConnect hooks are not.
type ConnectMiddleware func(next ConnectHook) ConnectHook

// ConnectGuard is connection middleware that runs check first and lets the
// connection through only when it returns nil; its error refuses the
// connection. Most connection middleware (authentication, bans) has this
// shape.
func ConnectGuard(check ConnectHook) ConnectMiddleware {
	return func(next ConnectHook) ConnectHook {
		return func(ctx context.Context, s *Socket) error {
			if err := check(ctx, s); err != nil {
				return err
			}
			return next(ctx, s)
		}
	}
}

// DisconnectHook runs once when a connected socket goes away, after the
// socket's pending events have been handled (those of WithConcurrent
// handlers have started, and may still run: their context is cancelled
// once the hooks return). reason is Socket.IO's
// ("client namespace disconnect", "transport close", "ping timeout",
// "server namespace disconnect", "server shutting down", …).
type DisconnectHook func(ctx context.Context, s *Socket, reason string)

// InitHook runs when the service's namespace is created: at start for a
// fixed name, and for each child of a pattern when its first client comes.
type InitHook func(ctx context.Context, ns Namespace)

// Router collects what a service declares. It is used only during Register
// and is not safe for concurrent use.
type Router struct {
	svc    *serviceDef
	parent *Router
	// prefix, middleware, options and after hooks of this router or group.
	prefix     string
	middleware []Middleware
	options    []HandlerOption
	after      []AfterHook
}

type route struct {
	event   string
	handler Handler
	router  *Router
	opts    []HandlerOption
	// config and chain are built at start, from the router's ancestry.
	config handlerConfig
	chain  HandlerFunc
	obs    EventObserver // nil without observers
}

// build resolves the route's options and middleware, outermost first:
// global, then each router from the service down to the group, then the
// handler's own; after hooks run the other way, the handler's first.
func (rt *route) build(global []Middleware, globalAfter []AfterHook, b binding) {
	routers := rt.ancestry()
	mw := append([]Middleware(nil), global...)
	for i := len(routers) - 1; i >= 0; i-- {
		mw = append(mw, routers[i].middleware...)
	}
	cfg := rt.options(routers)
	mw = append(mw, cfg.middleware...)
	for _, r := range routers {
		cfg.after = append(cfg.after, r.after...)
	}
	cfg.after = append(cfg.after, globalAfter...)
	rt.config = cfg
	h := rt.handler.bind(b)
	if _, typed := rt.handler.(*typed); b.observed && !typed {
		h = markRan(h) // typed handlers mark it after decoding (binding.ran)
	}
	rt.chain = chain(mw, h)
}

// options resolves the route's handler options: the routers' defaults,
// outermost first, then the handler's own. routers are the route's router
// and its ancestors, innermost first.
func (rt *route) options(routers []*Router) handlerConfig {
	var cfg handlerConfig
	for i := len(routers) - 1; i >= 0; i-- {
		for _, o := range routers[i].options {
			o.apply(&cfg)
		}
	}
	for _, o := range rt.opts {
		o.apply(&cfg)
	}
	return cfg
}

// ancestry is the route's router and its ancestors, innermost first.
func (rt *route) ancestry() []*Router {
	var routers []*Router
	for r := rt.router; r != nil; r = r.parent {
		routers = append(routers, r)
	}
	return routers
}

// markRan notes on the event that its handler ran (for OutcomeRejected).
func markRan(h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, m *Message) (any, error) {
		markRanCtx(ctx)
		return h(ctx, m)
	}
}

func markRanCtx(ctx context.Context) {
	if st, ok := ctx.Value(eventKey{}).(*eventState); ok {
		st.ran.Store(true)
	}
}

// chain wraps h in mw, the first being the outermost.
func chain(mw []Middleware, h HandlerFunc) HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

type serviceDef struct {
	owner      string // the service's Go type, for error messages
	name       string
	pattern    *regexp.Regexp
	patternSrc string
	route      bool // patternSrc is a route ("/tenant/{id}"), not a regexp
	nameSet    int
	routes     map[string]*route
	connectMW  []ConnectMiddleware
	connect    []ConnectHook
	disconnect []DisconnectHook
	init       []InitHook
	// serverEvents are events from other nodes (Router.OnServerEvent).
	serverEvents map[string]ServerEventHandler
	expired      []SessionExpiredHook
	errs         []error
	unknownObs   EventObserver // events no handler serves; nil without observers
	// For the contract: declared outgoing events (Router.Emits), in the
	// order declared, and the handshake auth's type (Router.ExpectAuth).
	emits       map[string]reflect.Type
	emitOrder   []string
	auth        reflect.Type
	children    ChildLimits // Router.LimitChildren
	childrenSet bool
}

func newServiceDef(svc Service) *serviceDef {
	d := &serviceDef{owner: fmt.Sprintf("%T", svc), routes: map[string]*route{}}
	r := &Router{svc: d}
	svc.Register(r)
	if d.nameSet == 0 {
		d.errs = append(d.errs, errors.New("no namespace: call Router.Namespace or Router.NamespacePattern"))
	}
	if d.childrenSet && d.nameSet > 0 && d.pattern == nil {
		d.errs = append(d.errs, errors.New("LimitChildren: the namespace is fixed, it has no children"))
	}
	return d
}

func (d *serviceDef) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return fmt.Errorf("socketservice: service %s: %w", d.owner, errors.Join(d.errs...))
}

// describe names the service's namespace for messages.
func (d *serviceDef) describe() string {
	if d.pattern != nil {
		return "pattern " + d.patternSrc
	}
	return d.name
}

// Namespace binds the service to a namespace: a fixed name such as "/chat",
// or a route with parameters in braces such as "/tenant/{id}", whose
// children ("/tenant/42") are created when their first client connects. A
// parameter matches one segment (no "/"), or the expression after a colon:
// "/tenant/{id:[0-9]+}". Socket.Param and Namespace.Param read it. The
// ":id" syntax is refused at start. A leading slash is added when missing.
func (r *Router) Namespace(name string) {
	if !r.setNamespace() {
		return
	}
	name = "/" + strings.TrimPrefix(name, "/")
	if !strings.ContainsAny(name, "{}") {
		if err := literal(name, name); err != nil {
			r.svc.errs = append(r.svc.errs, err)
			return
		}
		r.svc.name = name
		return
	}
	re, err := compileRoute(name)
	if err != nil {
		r.svc.errs = append(r.svc.errs, err)
		return
	}
	r.svc.pattern, r.svc.patternSrc, r.svc.route = re, name, true
}

// NamespacePattern binds the service to every namespace whose whole name
// matches the regular expression (Go RE2 syntax), e.g. `/tenant-\d+`; the
// expression is anchored at both ends whether or not it says so. Each
// matching name becomes a child namespace when its first client connects;
// handlers see the child's name in Socket.Namespace, and the values of
// named groups (`/tenant-(?P<id>\d+)`) in Socket.Param.
func (r *Router) NamespacePattern(expr string) {
	if !r.setNamespace() {
		return
	}
	re, err := regexp.Compile(anchor(expr))
	if err != nil {
		r.svc.errs = append(r.svc.errs, fmt.Errorf("namespace pattern %q: %w", expr, err))
		return
	}
	r.svc.pattern, r.svc.patternSrc = re, expr
}

func (r *Router) setNamespace() bool {
	r.svc.nameSet++
	if r.svc.nameSet > 1 {
		r.svc.errs = append(r.svc.errs, errors.New("namespace set more than once"))
		return false
	}
	return true
}

// ChildLimits bound the child namespaces of a pattern or route service
// (Router.LimitChildren): dynamic namespaces are a memory vector, a client
// can ask for /tenant-<random> forever.
type ChildLimits struct {
	// Max is the most children at once. A client asking for one more is
	// refused as for a namespace nothing serves (connect_error "Invalid
	// namespace", data.code INVALID_NAMESPACE), and the server logs it.
	// Zero is no limit. Concurrent first connections to new children may
	// pass it together.
	Max int
	// Idle is how long a child stays once its last socket left; then it
	// is removed, its adapter closed (OnInit hooks run again if it comes
	// back). Zero removes it at once.
	Idle time.Duration
}

// LimitChildren bounds the child namespaces of the service's pattern or
// route (see ChildLimits). Without it, children stay until the server
// stops. It is an error on a fixed namespace.
func (r *Router) LimitChildren(l ChildLimits) {
	if l.Max < 0 || l.Idle < 0 {
		r.svc.errs = append(r.svc.errs, errors.New("LimitChildren: Max and Idle must not be negative"))
		return
	}
	r.svc.children = l
	r.svc.childrenSet = true
}

// Use adds middleware to every handler of this router or group, whether
// registered before or after the call.
func (r *Router) Use(mw ...Middleware) {
	r.middleware = append(r.middleware, mw...)
}

// After adds hooks that run after the response of every handler of this
// router or group was written; see AfterHook.
func (r *Router) After(h ...AfterHook) {
	r.after = append(r.after, h...)
}

// Defaults sets default handler options for every handler of this router
// or group. Options given to Handle are applied after them: they win for
// WithRawResponse, WithEnvelope and WithConcurrent, and add to the
// defaults for WithMiddleware, WithAfter and the emit options.
func (r *Router) Defaults(opts ...HandlerOption) {
	r.options = append(r.options, opts...)
}

// Handle registers h for event (prefixed by the route's prefix).
func (r *Router) Handle(event string, h Handler, opts ...HandlerOption) {
	full := r.prefix + event
	switch {
	case event == "":
		r.svc.errs = append(r.svc.errs, errors.New("empty event name"))
		return
	case isNilHandler(h):
		r.svc.errs = append(r.svc.errs, fmt.Errorf("event %q: nil handler", full))
		return
	case reservedEvents[full]:
		r.svc.errs = append(r.svc.errs, fmt.Errorf("event %q is reserved by Socket.IO", full))
		return
	}
	if _, dup := r.svc.routes[full]; dup {
		r.svc.errs = append(r.svc.errs, fmt.Errorf("event %q registered twice", full))
		return
	}
	r.svc.routes[full] = &route{event: full, handler: h, router: r, opts: opts}
}

// HandleFunc registers an untyped handler function for event, as
// http.HandleFunc does; see Handle.
func (r *Router) HandleFunc(event string, fn func(ctx context.Context, msg *Message) (any, error), opts ...HandlerOption) {
	r.Handle(event, HandlerFunc(fn), opts...)
}

func isNilHandler(h Handler) bool {
	switch h := h.(type) {
	case nil:
		return true
	case HandlerFunc:
		return h == nil
	case *typed:
		return h == nil
	}
	return false
}

// Route registers handlers whose events share prefix, as chi's Route
// mounts routes under a path (Foal's sub-controllers): Route("users:", …)
// then Handle("create", …) serves "users:create". Middleware, options and
// after hooks of the route apply inside the parent router's.
func (r *Router) Route(prefix string, fn func(r *Router)) {
	fn(&Router{svc: r.svc, prefix: r.prefix + prefix, parent: r})
}

// Group is Route without a prefix, as chi's Group: handlers registered in
// fn get the group's middleware, options and after hooks on top of the
// parent router's.
func (r *Router) Group(fn func(r *Router)) { r.Route("", fn) }

// UseConnect adds connection middleware for the service's namespace, inside
// the global connection middleware; see ConnectMiddleware. Use it to
// authenticate (read s.Handshake(), SetIdentity) and to refuse connections.
func (r *Router) UseConnect(mw ...ConnectMiddleware) {
	r.svc.connectMW = append(r.svc.connectMW, mw...)
}

// OnConnect adds a hook run for each new socket, inside the connection
// middleware; see ConnectHook. Hooks run in the order they were added; the
// first error refuses the connection.
func (r *Router) OnConnect(h ConnectHook) { r.svc.connect = append(r.svc.connect, h) }

// OnDisconnect adds a hook run when a socket leaves; see DisconnectHook.
func (r *Router) OnDisconnect(h DisconnectHook) {
	r.svc.disconnect = append(r.svc.disconnect, h)
}

// OnInit adds a hook run when the namespace is created; see InitHook.
func (r *Router) OnInit(h InitHook) { r.svc.init = append(r.svc.init, h) }

// ReservedEvent reports whether Socket.IO reserves event, so that no
// handler may take it and no emit may send it (connect, disconnect, …).
func ReservedEvent(event string) bool { return reservedEvents[event] }

var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}
