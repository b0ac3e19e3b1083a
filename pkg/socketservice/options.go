package socketservice

// HandlerOption configures one handler (Router.Handle), or every handler of
// a router or route (Router.Defaults). For WithRawResponse, WithEnvelope
// and WithConcurrent the later option wins; WithMiddleware, WithAfter and
// the emit options add up (a default's middleware is outside the
// handler's own).
type HandlerOption interface{ apply(*handlerConfig) }

type handlerOptionFunc func(*handlerConfig)

func (f handlerOptionFunc) apply(c *handlerConfig) { f(c) }

type emitTarget int

const (
	emitToCaller emitTarget = iota
	emitToNamespace
	emitToOthers
	emitToRooms
)

type declaredEmit struct {
	event  string
	target emitTarget
	rooms  []string
}

type handlerConfig struct {
	raw        bool
	concurrent bool
	emits      []declaredEmit
	middleware []Middleware
	after      []AfterHook
	errors     []Code // declared for the contract (WithErrors)
}

// WithRawResponse acks with the handler's result as it is, instead of the
// {"status":"ok","data":…} envelope (Ts.ED and Midway style). Errors are
// still acked in the error envelope, so clients can tell them apart.
func WithRawResponse() HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.raw = true })
}

// WithEnvelope undoes WithRawResponse for one handler of a group.
func WithEnvelope() HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.raw = false })
}

// WithConcurrent lets the handler run beside the socket's other events. By
// default the events of one socket are handled one at a time, in the order
// they arrived; a concurrent handler starts in order but does not hold up
// the events after it.
func WithConcurrent() HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.concurrent = true })
}

// WithEmit emits a successful result to the caller as event (Ts.ED @Emit).
func WithEmit(event string) HandlerOption {
	return withEmit(declaredEmit{event: event, target: emitToCaller})
}

// WithBroadcast emits a successful result to every socket of the namespace,
// the caller included (Ts.ED @Broadcast).
func WithBroadcast(event string) HandlerOption {
	return withEmit(declaredEmit{event: event, target: emitToNamespace})
}

// WithBroadcastOthers emits a successful result to every socket of the
// namespace but the caller (Ts.ED @BroadcastOthers).
func WithBroadcastOthers(event string) HandlerOption {
	return withEmit(declaredEmit{event: event, target: emitToOthers})
}

// WithRoomEmit emits a successful result to the sockets in rooms, the caller
// included if it is in one of them.
func WithRoomEmit(event string, rooms ...string) HandlerOption {
	return withEmit(declaredEmit{event: event, target: emitToRooms, rooms: rooms})
}

func withEmit(e declaredEmit) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.emits = append(c.emits, e) })
}

// WithMiddleware adds handler-level middleware, inside the router's and the
// group's.
func WithMiddleware(mw ...Middleware) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.middleware = append(c.middleware, mw...) })
}

// WithAfter adds after hooks for one handler; they run before the
// router's (see AfterHook).
func WithAfter(h ...AfterHook) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.after = append(c.after, h...) })
}
