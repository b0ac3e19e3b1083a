// Package socketservice runs Socket.IO services on go.uber.org/fx.
//
// A socket service is a plain Go type with a Register method. It binds
// itself to a namespace (a fixed name such as "/chat"; for dynamic
// namespaces, a route such as "/tenant/{id}" or an anchored regular
// expression) and declares its handlers and hooks:
//
//	type Chat struct{}
//
//	func (c *Chat) Register(r *socketservice.Router) {
//		r.Namespace("/chat")
//		r.OnConnect(c.connect)   // before the client is told it is connected
//		r.Handle("chat:message", socketservice.TypedSocket(c.message))
//	}
//
//	func (c *Chat) message(ctx context.Context, s *socketservice.Socket, in Message) (Message, error) {
//		return in, s.To(in.Room).Emit("chat:message", in)
//	}
//
// Provide it with AsService, next to Module:
//
//	fx.New(
//		socketservice.Module,
//		fx.Supply(socketservice.Config{Addr: ":3000"}),
//		socketservice.AsService(NewChat),
//	)
//
// # Handlers and acks
//
// Typed, Typed2, Typed3 and Typed0 build handlers from ordinary functions
// over the untyped core HandlerFunc; TypedSocket, TypedSocket2 and
// TypedSocket0 also pass the socket. Arguments are decoded with
// encoding/json rules and validated (validate struct tags, and a Validate
// method).
// When the client asked for an acknowledgement, the result is the ack:
//
//	{"status":"ok","data":<result>}
//	{"status":"error","error":{"code":"…","message":"…","details":[…]}}
//
// Errors of type *Error keep their Code and message; any other error becomes
// INTERNAL_SERVER_ERROR with a generic message (Config.ExposeErrors shows
// the real one, for development). A payload that does not decode gets
// VALIDATION_PAYLOAD_ERROR naming the argument and field; a panic is
// recovered, logged once with its stack, and acked as an internal error.
// WithRawResponse sends the result as it is; WithEmit, WithBroadcast,
// WithBroadcastOthers and WithRoomEmit also emit it. ErrNoAck leaves the
// ack unanswered.
//
// # Order
//
// The events of one socket are handled one at a time, in the order they
// arrived, whatever the engine does; WithConcurrent lets a handler run
// beside the others. Middleware wraps handlers, the first registered being
// the outermost:
//
//	global → service (Router.Use) → group → handler (WithMiddleware) → handler
//
// Each middleware sees, and may change, what the ones inside it returned;
// the client is answered once, from what the outermost returns. After hooks
// (Router.After, WithAfter, GlobalAfterHooks) run once the answer is
// written. Connection middleware (ConnectMiddleware) wraps the OnConnect
// hooks the same way.
//
// # Handles
//
// *Server is injectable anywhere; Server.Of returns a Namespace handle to
// emit to rooms, fetch, join, leave or disconnect sockets, and collect acks.
// Services are injectable too (AsService provides the concrete type). Used
// before the app started or after it stopped, handles return ErrNotRunning.
//
// # Engine
//
// socketfx runs on the zishang520 Go port of the Socket.IO v4 server
// (v3.0.6). Only internal/engine touches it: this package implements the
// engine's Events (the Server) and Handler (each Socket) and calls its
// Driver; the measured defects of the engine and their workarounds live
// there too (docs/engine.md).
package socketservice
