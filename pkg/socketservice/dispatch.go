package socketservice

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
)

// onEvent queues an event of a connected socket, in arrival order, for the
// socket's handler goroutine.
func (w *Socket) onEvent(event string, args []any, ack func([]any)) {
	msg := &Message{Event: event, Args: args, WantsAck: ack != nil}
	st := &eventState{socket: w, msg: msg, ack: ack}
	if w.svc != nil {
		st.route = w.svc.routes[event]
	}
	if st.route == nil {
		w.queue.push(func() { w.unknown(st) })
		return
	}
	if st.route.config.concurrent {
		w.queue.push(func() {
			w.srv.inflight.add(1)
			go func() {
				defer w.srv.inflight.done()
				w.handle(st)
			}()
		})
		return
	}
	w.queue.push(func() { w.handle(st) })
}

func (w *Socket) unknown(st *eventState) {
	if w.srv.cfg.UnknownEvents == IgnoreUnknownEvents {
		w.logger.Debug("socketservice: unknown event ignored", "event", st.msg.Event)
		return
	}
	w.logger.Debug("socketservice: unknown event", "event", st.msg.Event)
	if st.ack != nil {
		st.ack([]any{errorEnvelope(Errorf(CodeNotFound, "unknown event %q", st.msg.Event), false)})
	}
}

// handle runs one event through its chain. The innermost link (see
// respondAfter) answers the client; whatever escapes is answered here.
func (w *Socket) handle(st *eventState) {
	ctx := context.WithValue(w.ctx, eventKey{}, st)
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("socketservice: middleware panicked", "event", st.msg.Event, "panic", r, "stack", string(debug.Stack()))
			w.respond(ctx, st, nil, errPanicked)
		}
	}()
	out, err := st.route.chain(ctx, st.msg)
	w.respond(ctx, st, out, err)
}

// respondAfter is the innermost link of every chain: it calls the handler,
// turns a panic into an internal error, and answers the client before the
// after-middleware runs.
func respondAfter(h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, msg *Message) (out any, err error) {
		st, _ := ctx.Value(eventKey{}).(*eventState)
		func() {
			defer func() {
				if r := recover(); r != nil {
					logger := slog.Default()
					if st != nil {
						logger = st.socket.logger
					}
					logger.Error("socketservice: handler panicked", "event", msg.Event, "panic", r, "stack", string(debug.Stack()))
					out, err = nil, errPanicked
				}
			}()
			out, err = h(ctx, msg)
		}()
		if st != nil {
			st.socket.respond(ctx, st, out, err)
		}
		return out, err
	}
}

// respond sends the ack and the declared emits for an event, once: the
// first caller wins (the handler's return, or a middleware that answered
// first, such as a timeout).
func (w *Socket) respond(ctx context.Context, st *eventState, out any, err error) bool {
	if !st.responded.CompareAndSwap(false, true) {
		return false
	}
	expose := w.srv.cfg.ExposeErrors
	if err != nil && st.route != nil {
		err = w.handleError(ctx, st, err)
	}
	if err != nil {
		switch {
		case errors.Is(err, errPanicked):
			// logged where it was recovered
		case CodeOf(err) == CodeInternal:
			w.logger.Error("socketservice: handler failed", "event", st.msg.Event, "error", err)
		default:
			w.logger.Debug("socketservice: handler returned client error", "event", st.msg.Event, "error", err)
		}
		if st.ack != nil {
			st.ack([]any{errorEnvelope(err, expose)})
		}
		return true
	}
	if _, empty := out.(NoReply); empty {
		out = nil
	}
	var cfg *handlerConfig
	if st.route != nil {
		cfg = &st.route.config
	}
	if st.ack != nil {
		if many, ok := out.(Args); ok && cfg != nil && cfg.raw {
			st.ack(many)
		} else if cfg != nil && cfg.raw {
			st.ack([]any{out})
		} else {
			st.ack([]any{map[string]any{"status": "ok", "data": out}})
		}
	}
	if cfg == nil {
		return true
	}
	for _, e := range cfg.emits {
		var emitErr error
		switch e.target {
		case emitToCaller:
			emitErr = w.Emit(e.event, out)
		case emitToNamespace:
			emitErr = w.namespace().Emit(e.event, out)
		case emitToOthers:
			emitErr = w.Broadcast().Emit(e.event, out)
		case emitToRooms:
			emitErr = w.namespace().To(e.rooms...).Emit(e.event, out)
		}
		if emitErr != nil {
			w.logger.Warn("socketservice: declared emit failed", "event", st.msg.Event, "emit", e.event, "error", emitErr)
		}
	}
	return true
}

// handleError runs the route's error handlers, innermost first; a panic in
// one is logged and leaves the error as it was.
func (w *Socket) handleError(ctx context.Context, st *eventState, err error) error {
	for _, h := range st.route.config.onError {
		func() {
			defer func() {
				if r := recover(); r != nil {
					w.logger.Error("socketservice: error handler panicked", "event", st.msg.Event, "panic", r, "stack", string(debug.Stack()))
				}
			}()
			if e := h(ctx, err); e != nil {
				err = e
			}
		}()
	}
	return err
}

func errorEnvelope(err error, expose bool) map[string]any {
	return map[string]any{"status": "error", "error": wireError(err, expose)}
}
