package socketservice_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

type sayIn struct {
	Text string `json:"text"`
}

func (s sayIn) Validate() error {
	if strings.TrimSpace(s.Text) == "" {
		return errors.New("text must not be empty")
	}
	return nil
}

type sayOut struct {
	Text string `json:"text"`
	From string `json:"from"`
}

// echo is a service exercising most handler shapes.
type echo struct {
	mu       sync.Mutex
	order    []int
	running  int
	maxConc  int
	gate     chan struct{}
	reasons  []string
	initSeen []string
}

func newEcho() *echo { return &echo{gate: make(chan struct{})} }

func (e *echo) Register(r *socketservice.Router) {
	r.Namespace("/echo")
	r.OnInit(func(ctx context.Context, ns socketservice.Namespace) {
		e.mu.Lock()
		e.initSeen = append(e.initSeen, ns.Name())
		e.mu.Unlock()
	})
	r.OnDisconnect(func(ctx context.Context, s *socketservice.Socket, reason string) {
		e.mu.Lock()
		e.reasons = append(e.reasons, reason)
		e.mu.Unlock()
	})
	r.Handle("say", socketservice.Typed(e.say))
	r.Handle("say:raw", socketservice.Typed(e.say), socketservice.WithRawResponse())
	r.Handle("say:emit", socketservice.Typed(e.say), socketservice.WithEmit("said"))
	r.Handle("say:all", socketservice.Typed(e.say), socketservice.WithBroadcast("said"))
	r.Handle("say:others", socketservice.Typed(e.say), socketservice.WithBroadcastOthers("said"))
	r.Handle("say:lobby", socketservice.Typed(e.say), socketservice.WithRoomEmit("said", "lobby"))
	r.Handle("join", socketservice.Typed(func(ctx context.Context, room string) (socketservice.NoReply, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		s.Join(room)
		return socketservice.NoReply{}, nil
	}))
	r.Handle("sum3", socketservice.Typed3(func(ctx context.Context, a, b, c float64) (float64, error) {
		return a + b + c, nil
	}))
	r.Handle("concat2", socketservice.Typed2(func(ctx context.Context, a string, b int) (string, error) {
		return a + ":" + strings.Repeat("x", b), nil
	}))
	r.Handle("ping", socketservice.Typed0(func(ctx context.Context) (string, error) { return "pong", nil }))
	r.Handle("fail", socketservice.Typed(func(ctx context.Context, code string) (any, error) {
		if code == "" {
			return nil, errors.New("db password is hunter2")
		}
		return nil, socketservice.NewError(socketservice.Code(code), "you asked for it")
	}))
	r.Handle("panic", socketservice.Typed0(func(ctx context.Context) (any, error) { panic("kaboom") }))
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (map[string]any, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		ev, _ := socketservice.EventFromContext(ctx)
		h := s.Handshake()
		return map[string]any{
			"id": s.ID(), "namespace": s.Namespace(), "event": ev, "auth": h.Auth,
			"query": h.Query.Get("tag"), "header": h.Headers.Get("X-Test"),
		}, nil
	}))
	r.Handle("confirm", socketservice.Typed(func(ctx context.Context, q string) (any, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		a, err := s.EmitWithAck(ctx, "sure?", q)
		if err != nil {
			return nil, socketservice.NewError(socketservice.CodeTimeout, "client did not confirm")
		}
		return a, nil
	}))
	r.Handle("seq", socketservice.Typed(e.seq))
	r.Handle("seq:concurrent", socketservice.Typed(e.seq), socketservice.WithConcurrent())
	r.Route("users:", func(g *socketservice.Router) {
		g.Handle("create", socketservice.Typed(func(ctx context.Context, name string) (string, error) {
			ev, _ := socketservice.EventFromContext(ctx)
			return ev + "=" + name, nil
		}))
	})
}

func (e *echo) say(ctx context.Context, in sayIn) (sayOut, error) {
	s, _ := socketservice.SocketFromContext(ctx)
	return sayOut{Text: in.Text, From: s.ID()}, nil
}

// seq records the order of events and how many ran at once. Event 1 waits
// for the gate, so that later events pile up behind it.
func (e *echo) seq(ctx context.Context, n int) (int, error) {
	e.mu.Lock()
	e.running++
	if e.running > e.maxConc {
		e.maxConc = e.running
	}
	e.mu.Unlock()
	if n == 1 {
		select {
		case <-e.gate:
		case <-time.After(3 * time.Second):
		}
	}
	e.mu.Lock()
	e.order = append(e.order, n)
	e.running--
	e.mu.Unlock()
	return n, nil
}

func (e *echo) snapshot() (order []int, maxConc int, reasons, inits []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.order...), e.maxConc, append([]string(nil), e.reasons...), append([]string(nil), e.initSeen...)
}

// tenants serves the dynamic namespaces /tenant-<digits>.
type tenants struct {
	mu    sync.Mutex
	inits []string
}

func (t *tenants) Register(r *socketservice.Router) {
	r.NamespacePattern(`^/tenant-\d+$`)
	r.OnInit(func(ctx context.Context, ns socketservice.Namespace) {
		t.mu.Lock()
		t.inits = append(t.inits, ns.Name())
		t.mu.Unlock()
	})
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (map[string]string, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		return map[string]string{"namespace": s.Namespace()}, nil
	}))
}

func (t *tenants) initNames() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.inits...)
}

// gated rejects connections without auth.name.
type gated struct{}

func (gated) Register(r *socketservice.Router) {
	r.Namespace("/gated")
	r.OnConnect(func(ctx context.Context, s *socketservice.Socket) error {
		name, _ := s.Handshake().Auth["name"].(string)
		if name == "" {
			return socketservice.NewError(socketservice.CodeUnauthorized, "unauthorized").WithData("hint", "send auth.name")
		}
		s.Join("user:" + name)
		return s.Emit("welcome", name)
	})
	r.Handle("hello", socketservice.Typed0(func(ctx context.Context) (string, error) { return "hi", nil }))
}

func ctxT() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	time.AfterFunc(6*time.Second, cancel) // usable inside cleanups too
	return ctx
}

func connect(srv *sockettest.Server, nsp string, opts ...sockettest.Option) *sockettest.Client {
	c, err := srv.Connect(ctxT(), nsp, opts...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(c.Close)
	return c
}

func call(c *sockettest.Client, event string, args ...any) []any {
	a, err := c.EmitWithAck(ctxT(), event, args...)
	Expect(err).NotTo(HaveOccurred())
	return a
}

func okData(a []any) any {
	ExpectWithOffset(1, a).To(HaveLen(1))
	env, ok := a[0].(map[string]any)
	ExpectWithOffset(1, ok).To(BeTrue(), "ack is not an envelope: %v", a)
	ExpectWithOffset(1, env).To(HaveKeyWithValue("status", "ok"))
	return env["data"]
}

func ackErr(a []any) map[string]any {
	ExpectWithOffset(1, a).To(HaveLen(1))
	env, ok := a[0].(map[string]any)
	ExpectWithOffset(1, ok).To(BeTrue(), "ack is not an envelope: %v", a)
	ExpectWithOffset(1, env).To(HaveKeyWithValue("status", "error"))
	e, _ := env["error"].(map[string]any)
	return e
}

// teams serves the route-style namespaces /org/{org}/team/{team:[0-9]+}.
type teams struct {
	mu    sync.Mutex
	inits []string
}

func (t *teams) Register(r *socketservice.Router) {
	r.Namespace("/org/{org}/team/{team:[0-9]+}")
	r.OnInit(func(ctx context.Context, ns socketservice.Namespace) {
		t.mu.Lock()
		t.inits = append(t.inits, ns.Param("org")+"/"+ns.Param("team"))
		t.mu.Unlock()
	})
	r.Handle("whoami", socketservice.TypedSocket0(func(ctx context.Context, s *socketservice.Socket) (map[string]any, error) {
		return map[string]any{"namespace": s.Namespace(), "org": s.Param("org"), "params": s.Params()}, nil
	}))
}

func (t *teams) initNames() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.inits...)
}

// shops serves a pattern written without anchors, with a named group.
type shops struct{}

func (shops) Register(r *socketservice.Router) {
	r.NamespacePattern(`/shop-(?P<shop>[a-z]+)`)
	r.Handle("whoami", socketservice.TypedSocket0(func(ctx context.Context, s *socketservice.Socket) (string, error) {
		return s.Param("shop"), nil
	}))
}
