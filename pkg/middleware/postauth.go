package middleware

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// PostConnectAuthConfig configures PostConnectAuth.
type PostConnectAuthConfig struct {
	// Verify checks the credentials of the authenticate event (its first
	// argument, e.g. {"token": "…"}) and returns the socket's identity. An
	// error refuses them: a *socketservice.Error's message is what the
	// client reads, any other error gives "invalid credentials". Required.
	Verify func(ctx context.Context, s *socketservice.Socket, credentials map[string]any) (socketservice.Identity, error)
	// Timeout is how long a socket may stay connected without
	// authenticating; then it gets the unauthenticated event and is
	// disconnected. Zero is 10 s.
	Timeout time.Duration
	// Event is the event the client sends, "authenticate" by default;
	// Authenticated and Unauthenticated the events the server answers
	// with, "authenticated" and "unauthenticated" by default (Ignis's).
	Event, Authenticated, Unauthenticated string
}

// PostConnectAuth lets clients that cannot set auth at connect
// authenticate after it (Ignis's authenticate flow), as an alternative to
// handshake auth: it registers on r the event handler, a guard that
// refuses every other event of the namespace with UNAUTHORIZED until the
// socket is authenticated, and a deadline.
//
// The client emits authenticate with its credentials; the server answers
// with the authenticated event ({"subject": …}) and the ack
// {"status":"ok","data":{"subject": …}}, or with the unauthenticated event
// ({"code": "UNAUTHORIZED", "message": …}) and the error ack, and then
// disconnects the socket ("io server disconnect"). A socket that has not
// authenticated within Timeout gets unauthenticated with the message
// "authentication timed out" and is disconnected. A second authenticate
// once authenticated is refused (the identity of a live socket does not
// change this way).
func PostConnectAuth(r *socketservice.Router, cfg PostConnectAuthConfig) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Event == "" {
		cfg.Event = "authenticate"
	}
	if cfg.Authenticated == "" {
		cfg.Authenticated = "authenticated"
	}
	if cfg.Unauthenticated == "" {
		cfg.Unauthenticated = "unauthenticated"
	}
	pa := &postAuth{cfg: cfg, states: map[string]*authState{}}
	r.OnConnect(pa.connect)
	r.OnDisconnect(pa.disconnect)
	r.Use(pa.guard)
	r.Handle(cfg.Event, socketservice.TypedSocket(pa.authenticate),
		socketservice.WithErrors(socketservice.CodeUnauthorized, socketservice.CodeForbidden),
		socketservice.WithAfter(pa.afterRefusal))
}

// errRefused marks the error of a refused authenticate, which the after
// hook turns into the unauthenticated event and the disconnect once the
// ack is out.
var errRefused = errors.New("credentials refused")

// AuthenticatedReply is the ack data of the authenticate event, and the
// payload of the authenticated event.
type AuthenticatedReply struct {
	Subject string `json:"subject"`
}

// Unauthenticated is the payload of the unauthenticated event.
type Unauthenticated struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type postAuth struct {
	cfg    PostConnectAuthConfig
	mu     sync.Mutex
	states map[string]*authState // by socket id
}

type authState struct {
	done  bool // authenticated or refused
	timer *time.Timer
}

func (pa *postAuth) connect(ctx context.Context, s *socketservice.Socket) error {
	st := &authState{}
	_, st.done = s.Identity() // a recovered socket keeps the identity it had
	pa.mu.Lock()
	pa.states[s.ID()] = st
	pa.mu.Unlock()
	if st.done {
		return nil
	}
	st.timer = time.AfterFunc(pa.cfg.Timeout, func() {
		if pa.finish(s.ID(), false) {
			pa.refuse(s, "authentication timed out")
		}
	})
	return nil
}

func (pa *postAuth) disconnect(_ context.Context, s *socketservice.Socket, _ string) {
	pa.mu.Lock()
	st := pa.states[s.ID()]
	delete(pa.states, s.ID())
	pa.mu.Unlock()
	if st != nil && st.timer != nil {
		st.timer.Stop()
	}
}

// finish marks the socket's authentication over, once: it reports whether
// this call did (and so owns the answer). ok stops the deadline.
func (pa *postAuth) finish(id string, ok bool) bool {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	st := pa.states[id]
	if st == nil || st.done {
		return false
	}
	st.done = true
	if st.timer != nil {
		st.timer.Stop()
	}
	return true
}

func (pa *postAuth) refuse(s *socketservice.Socket, message string) {
	_ = s.Emit(pa.cfg.Unauthenticated, Unauthenticated{Code: string(socketservice.CodeUnauthorized), Message: message})
	s.Disconnect(false)
}

func (pa *postAuth) authenticate(ctx context.Context, s *socketservice.Socket, creds map[string]any) (AuthenticatedReply, error) {
	if _, ok := socketservice.IdentityFromContext(ctx); ok {
		return AuthenticatedReply{}, socketservice.NewError(socketservice.CodeForbidden, "already authenticated")
	}
	id, err := pa.cfg.Verify(ctx, s, creds)
	if err == nil && id.Subject == "" {
		err = errors.New("no subject")
	}
	if err != nil {
		msg := "invalid credentials"
		var se *socketservice.Error
		if errors.As(err, &se) {
			msg = se.Message()
		}
		cause := err
		if pa.finish(s.ID(), false) {
			cause = errors.Join(errRefused, err) // the ack goes first, then the event and the disconnect
		}
		return AuthenticatedReply{}, socketservice.NewError(socketservice.CodeUnauthorized, msg).WithCause(cause)
	}
	if !pa.finish(s.ID(), true) {
		return AuthenticatedReply{}, socketservice.NewError(socketservice.CodeUnauthorized, "authentication timed out")
	}
	s.SetIdentity(id)
	reply := AuthenticatedReply{Subject: id.Subject}
	_ = s.Emit(pa.cfg.Authenticated, reply)
	return reply, nil
}

// afterRefusal sends the unauthenticated event and disconnects, once the
// refused authenticate's ack is written.
func (pa *postAuth) afterRefusal(ctx context.Context, _ *socketservice.Message, _ any, err error) {
	var se *socketservice.Error
	if !errors.Is(err, errRefused) || !errors.As(err, &se) {
		return
	}
	if s, ok := socketservice.SocketFromContext(ctx); ok {
		pa.refuse(s, se.Message())
	}
}

// guard refuses the namespace's other events until the socket has
// authenticated.
func (pa *postAuth) guard(next socketservice.HandlerFunc) socketservice.HandlerFunc {
	return func(ctx context.Context, m *socketservice.Message) (any, error) {
		if m.Event == pa.cfg.Event {
			return next(ctx, m)
		}
		if _, ok := socketservice.IdentityFromContext(ctx); !ok {
			return nil, socketservice.NewError(socketservice.CodeUnauthorized, "authenticate first")
		}
		return next(ctx, m)
	}
}
