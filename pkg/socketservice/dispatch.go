package socketservice

import (
	"context"
	"errors"
	"runtime/debug"
	"time"
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
		if w.srv.obs != nil {
			w.unknownObserver().Received()
		}
		w.pushEvent(st, func() { w.unknown(st) })
		return
	}
	if st.route.obs != nil {
		st.route.obs.Received()
	}
	if st.route.config.concurrent {
		w.pushEvent(st, func() {
			w.srv.inflight.add(1)
			go func() {
				defer w.srv.inflight.done()
				w.handle(st)
			}()
		})
		return
	}
	w.pushEvent(st, func() { w.handle(st) })
}

// pushEvent queues an event's task; once the server stops, events that
// arrive are not handled and not acked, so that a client with retries
// sends them again to the node it reconnects to.
func (w *Socket) pushEvent(st *eventState, task func()) {
	if !w.queue.pushEvent(task) {
		w.logger.Debug("socketservice: event not handled: the server is stopping", "event", st.msg.Event)
	}
}

// unknownObserver sees the events of the socket's namespace that no
// handler serves.
func (w *Socket) unknownObserver() EventObserver {
	if w.svc != nil && w.svc.unknownObs != nil {
		return w.svc.unknownObs
	}
	return w.srv.rootUnknown
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

// handle runs one event through its chain and answers the client once,
// from what the outermost middleware returns; a panic anywhere in the chain
// is recovered here (middleware.Recover, inside, may choose its error
// first). After hooks run once the answer is written.
func (w *Socket) handle(st *eventState) {
	ctx := context.WithValue(w.ctx, eventKey{}, st)
	ho := st.route.obs
	var start time.Time
	if ho != nil {
		ho.Started()
		start = time.Now()
	}
	out, err := w.run(ctx, st)
	if err != nil {
		out = nil
	}
	if ho != nil {
		observeEnd(ho, st, err, time.Since(start))
	}
	w.respond(st, out, err)
	w.after(ctx, st, out, err)
}

func (w *Socket) run(ctx context.Context, st *eventState) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("socketservice: handler panicked", "event", st.msg.Event, "panic", r, "stack", string(debug.Stack()))
			out, err = nil, errPanicked
		}
	}()
	return st.route.chain(ctx, st.msg)
}

// respond sends the ack and the declared emits for an event.
func (w *Socket) respond(st *eventState, out any, err error) {
	if err != nil {
		switch {
		case errors.Is(err, ErrNoAck):
			w.logger.Debug("socketservice: event left unanswered on purpose", "event", st.msg.Event)
			return
		case errors.Is(err, errPanicked):
			// logged where it was recovered
		case CodeOf(err) == CodeInternal:
			w.logger.Error("socketservice: handler failed", "event", st.msg.Event, "error", err)
		default:
			w.logger.Debug("socketservice: handler returned client error", "event", st.msg.Event, "error", err)
		}
		if st.ack != nil {
			st.ack([]any{errorEnvelope(err, w.srv.cfg.ExposeErrors)})
		}
		return
	}
	if _, empty := out.(NoReply); empty {
		out = nil
	}
	cfg := &st.route.config
	if st.ack != nil {
		if many, ok := out.(Args); ok && cfg.raw {
			st.ack(many)
		} else if cfg.raw {
			st.ack([]any{out})
		} else {
			st.ack([]any{map[string]any{"status": "ok", "data": out}})
		}
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
}

// after runs the route's after hooks, innermost first; a panic in one is
// logged and the others still run.
func (w *Socket) after(ctx context.Context, st *eventState, out any, err error) {
	for _, h := range st.route.config.after {
		func() {
			defer func() {
				if r := recover(); r != nil {
					w.logger.Error("socketservice: after hook panicked", "event", st.msg.Event, "panic", r, "stack", string(debug.Stack()))
				}
			}()
			h(ctx, st.msg, out, err)
		}()
	}
}

func errorEnvelope(err error, expose bool) map[string]any {
	return map[string]any{"status": "error", "error": wireError(err, expose)}
}
