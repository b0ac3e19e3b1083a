package socketservice_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var _ = Describe("handlers", func() {
	var (
		srv *sockettest.Server
		svc *echo
	)
	BeforeEach(func() {
		leakCheck()
		svc = newEcho()
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() *echo { return svc }),
			socketservice.AsService(func() *tenants { return &tenants{} }),
		)
	})

	It("acks a typed handler's result in the ok envelope", func() {
		c := connect(srv, "/echo")
		Expect(okData(call(c, "say", map[string]any{"text": "hi"}))).To(Equal(map[string]any{"text": "hi", "from": c.ID()}))
		var out sayOut
		Expect(c.Call(ctxT(), "say", sayIn{Text: "typed"}, &out)).To(Succeed())
		Expect(out).To(Equal(sayOut{Text: "typed", From: c.ID()}))
	})

	It("acks null data for NoReply and answers Typed0", func() {
		c := connect(srv, "/echo")
		Expect(okData(call(c, "join", "room-1"))).To(BeNil())
		Expect(okData(call(c, "ping"))).To(Equal("pong"))
	})

	It("passes several positional arguments to Typed2 and Typed3", func() {
		c := connect(srv, "/echo")
		Expect(okData(call(c, "sum3", 1, 2, 3.5))).To(Equal(6.5))
		Expect(okData(call(c, "concat2", "a", 3))).To(Equal("a:xxx"))
	})

	It("sends the raw result with WithRawResponse", func() {
		c := connect(srv, "/echo")
		Expect(call(c, "say:raw", map[string]any{"text": "raw"})).To(Equal([]any{map[string]any{"text": "raw", "from": c.ID()}}))
	})

	It("routes group events by prefix", func() {
		c := connect(srv, "/echo")
		Expect(okData(call(c, "users:create", "ann"))).To(Equal("users:create=ann"))
	})

	It("gives handlers the socket, event, namespace and handshake, with auth {} when none was sent", func() {
		c := connect(srv, "/echo", sockettest.WithQuery(url.Values{"tag": {"q1"}}), sockettest.WithHeader(http.Header{"X-Test": {"h1"}}))
		Expect(okData(call(c, "whoami"))).To(Equal(map[string]any{
			"id": c.ID(), "namespace": "/echo", "event": "whoami", "auth": map[string]any{}, "query": "q1", "header": "h1",
		}))
		c2 := connect(srv, "/echo", sockettest.WithAuth(map[string]any{"token": "t"}))
		Expect(okData(call(c2, "whoami"))).To(HaveKeyWithValue("auth", map[string]any{"token": "t"}))
	})

	Describe("bad input", func() {
		It("answers a payload of the wrong type with VALIDATION_PAYLOAD_ERROR naming the problem", func() {
			c := connect(srv, "/echo")
			e := ackErr(call(c, "say", "not an object"))
			Expect(e).To(HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR"))
			Expect(e["message"]).To(Equal("argument 1: expected object, got string"))

			e = ackErr(call(c, "say", map[string]any{"text": 42}))
			Expect(e).To(HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR"))
			Expect(e["message"]).To(ContainSubstring(`field "text": expected string, got number`))
			Expect(e["details"]).To(ConsistOf(map[string]any{"field": "text", "rule": "type", "message": "expected string, got number"}))
		})

		It("answers a missing payload, null, and extra arguments", func() {
			c := connect(srv, "/echo")
			Expect(ackErr(call(c, "say"))).To(HaveKeyWithValue("message", "argument 1: missing"))
			Expect(ackErr(call(c, "say", nil))).To(HaveKeyWithValue("message", "argument 1: must not be null"))
			Expect(ackErr(call(c, "say", map[string]any{"text": "a"}, "extra"))).To(HaveKeyWithValue("message", "argument 2: unexpected argument (the event takes 1)"))
			Expect(ackErr(call(c, "ping", 1))).To(HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR"))
		})

		It("runs the input's Validate method", func() {
			c := connect(srv, "/echo")
			Expect(ackErr(call(c, "say", map[string]any{"text": "  "}))).To(Equal(map[string]any{
				"code": "VALIDATION_PAYLOAD_ERROR", "message": "text must not be empty",
			}))
		})

		It("hides internal errors behind a generic message, and keeps *Error codes", func() {
			c := connect(srv, "/echo")
			Expect(ackErr(call(c, "fail", ""))).To(Equal(map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "internal server error"}))
			Expect(ackErr(call(c, "fail", "FORBIDDEN"))).To(Equal(map[string]any{"code": "FORBIDDEN", "message": "you asked for it"}))
		})

		It("reports unknown events with NOT_FOUND", func() {
			c := connect(srv, "/echo")
			Expect(ackErr(call(c, "no-such-event", 1))).To(Equal(map[string]any{"code": "NOT_FOUND", "message": `unknown event "no-such-event"`}))
			Expect(c.Emit("no-such-event")).To(Succeed())
			Expect(okData(call(c, "ping"))).To(Equal("pong"))
		})

		It("survives a panicking handler: internal error ack, and everyone keeps being served", func() {
			c := connect(srv, "/echo")
			other := connect(srv, "/echo")
			Expect(ackErr(call(c, "panic"))).To(HaveKeyWithValue("code", "INTERNAL_SERVER_ERROR"))
			Expect(okData(call(c, "ping"))).To(Equal("pong"))
			Expect(okData(call(other, "ping"))).To(Equal("pong"))
		})
	})

	Describe("declared emits", func() {
		It("emits the result to the caller, the namespace, the others, or a room", func() {
			a := connect(srv, "/echo")
			b := connect(srv, "/echo")
			Expect(okData(call(b, "join", "lobby"))).To(BeNil())

			call(a, "say:emit", map[string]any{"text": "1"})
			ev, err := a.Next(ctxT())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "said", Args: []any{map[string]any{"text": "1", "from": a.ID()}}}))

			call(a, "say:all", map[string]any{"text": "2"})
			for _, c := range []*sockettest.Client{a, b} {
				ev, err := c.Next(ctxT())
				Expect(err).NotTo(HaveOccurred())
				Expect(ev.Args).To(Equal([]any{map[string]any{"text": "2", "from": a.ID()}}))
			}

			call(a, "say:others", map[string]any{"text": "3"})
			ev, err = b.Next(ctxT())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev.Args[0]).To(HaveKeyWithValue("text", "3"))

			call(a, "say:lobby", map[string]any{"text": "4"})
			ev, err = b.Next(ctxT())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev.Args[0]).To(HaveKeyWithValue("text", "4"))
			// a is in neither the others-broadcast nor the lobby.
			Expect(a.Events()).To(HaveLen(2))
		})
	})

	Describe("ordering", func() {
		It("handles one socket's pipelined events one at a time, in arrival order", func() {
			c := connect(srv, "/echo")
			for i := 1; i <= 5; i++ {
				Expect(c.Emit("seq", i)).To(Succeed())
			}
			// Event 1 is held at the gate; nothing after it may start.
			Consistently(func() []int { o, _, _, _ := svc.snapshot(); return o }, "200ms").Should(BeEmpty())
			close(svc.gate)
			Eventually(func() []int { o, _, _, _ := svc.snapshot(); return o }).Should(Equal([]int{1, 2, 3, 4, 5}))
			_, maxConc, _, _ := svc.snapshot()
			Expect(maxConc).To(Equal(1))
		})

		It("lets WithConcurrent handlers run beside the others", func() {
			c := connect(srv, "/echo")
			Expect(c.Emit("seq:concurrent", 1)).To(Succeed())
			Expect(c.Emit("seq:concurrent", 2)).To(Succeed())
			Eventually(func() []int { o, _, _, _ := svc.snapshot(); return o }).Should(Equal([]int{2}))
			close(svc.gate)
			Eventually(func() []int { o, _, _, _ := svc.snapshot(); return o }).Should(Equal([]int{2, 1}))
		})
	})

	Describe("hooks", func() {
		It("runs OnInit for a fixed namespace at start and for each pattern child", func() {
			_, _, _, inits := svc.snapshot()
			Expect(inits).To(Equal([]string{"/echo"}))
		})

		It("runs OnDisconnect with the reason", func() {
			c := connect(srv, "/echo")
			c.Disconnect()
			Eventually(func() []string { _, _, r, _ := svc.snapshot(); return r }).Should(Equal([]string{"client namespace disconnect"}))
			c2 := connect(srv, "/echo")
			c2.Close()
			Eventually(func() []string { _, _, r, _ := svc.snapshot(); return r }).Should(ContainElement("transport close"))
		})
	})

	Describe("dynamic namespaces", func() {
		It("serves every name matching the pattern and shows handlers the child name", func() {
			c := connect(srv, "/tenant-42")
			Expect(okData(call(c, "whoami"))).To(Equal(map[string]any{"namespace": "/tenant-42"}))
			c2 := connect(srv, "/tenant-7")
			Expect(okData(call(c2, "whoami"))).To(Equal(map[string]any{"namespace": "/tenant-7"}))
		})

		It("refuses names that match nothing", func() {
			_, err := srv.Connect(ctxT(), "/tenant-x")
			var ce *sockettest.ConnectError
			Expect(errors.As(err, &ce)).To(BeTrue(), "%v", err)
			Expect(ce.Message).To(Equal("Invalid namespace"))
			Expect(ce.Data).To(Equal(map[string]any{"code": "INVALID_NAMESPACE"}))
		})
	})
})

var _ = Describe("route-style namespaces", func() {
	var (
		srv *sockettest.Server
		t   *teams
	)
	BeforeEach(func() {
		leakCheck()
		t = &teams{}
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() *teams { return t }),
			socketservice.AsService(func() shops { return shops{} }),
		)
	})
	refused := func(name string) {
		_, err := srv.Connect(ctxT(), name)
		var ce *sockettest.ConnectError
		ExpectWithOffset(1, errors.As(err, &ce)).To(BeTrue(), "%s: %v", name, err)
		ExpectWithOffset(1, ce.Message).To(Equal("Invalid namespace"), name)
	}

	It("gives the socket and the init hook the route's parameters", func() {
		c := connect(srv, "/org/acme/team/42")
		Expect(okData(call(c, "whoami"))).To(Equal(map[string]any{
			"namespace": "/org/acme/team/42", "org": "acme",
			"params": map[string]any{"org": "acme", "team": "42"},
		}))
		connect(srv, "/org/beta/team/7")
		Eventually(t.initNames).Should(Equal([]string{"acme/42", "beta/7"}))
	})

	It("matches a parameter within one segment and by its own expression", func() {
		refused("/org/acme/x/team/42")
		refused("/org/acme/team/4x")
		refused("/org/acme/team/42/more")
	})

	It("anchors a pattern written without ^ and $, and reads its named groups", func() {
		c := connect(srv, "/shop-books")
		Expect(okData(call(c, "whoami"))).To(Equal("books"))
		refused("/shop-books2")
		refused("/eu/shop-books")
	})
})

var _ = Describe("pattern init hooks", func() {
	It("runs OnInit once per child namespace", func() {
		leakCheck()
		t := &tenants{}
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() *tenants { return t }))
		connect(srv, "/tenant-1")
		connect(srv, "/tenant-1")
		connect(srv, "/tenant-2")
		Eventually(t.initNames).Should(Equal([]string{"/tenant-1", "/tenant-2"}))
	})
})

var _ = Describe("connect hooks", func() {
	var srv *sockettest.Server
	BeforeEach(func() {
		leakCheck()
		srv = sockettest.NewServer(GinkgoT(), socketservice.AsService(func() gated { return gated{} }))
	})

	It("rejects with connect_error carrying message and data", func() {
		_, err := srv.Connect(ctxT(), "/gated")
		Expect(err).To(MatchError(&sockettest.ConnectError{
			Message: "unauthorized",
			Data:    map[string]any{"code": "UNAUTHORIZED", "hint": "send auth.name"},
		}))
		Expect(srv.Socket.Of("/gated").Count()).To(Equal(0))
	})

	It("lets the hook join rooms and emit before the client is told it is connected", func() {
		c := connect(srv, "/gated", sockettest.WithAuth(map[string]any{"name": "ann"}))
		ev, err := c.Next(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sockettest.Event{Name: "welcome", Args: []any{"ann"}}))
		Expect(srv.Socket.Of("/gated").To("user:ann").Emit("direct", 1)).To(Succeed())
		ev, err = c.Next(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Name).To(Equal("direct"))
	})
})

var _ = Describe("registration mistakes", func() {
	start := func(opts ...fx.Option) error {
		app := fx.New(append([]fx.Option{socketservice.Module, fx.NopLogger}, opts...)...)
		if err := app.Err(); err != nil {
			return err
		}
		err := app.Start(context.Background())
		_ = app.Stop(context.Background())
		return err
	}

	It("fails the start when two services serve one namespace", func() {
		err := start(
			socketservice.AsService(func() *echo { return newEcho() }),
			fx.Provide(fx.Annotate(func() socketservice.Service { return newEcho() }, fx.ResultTags(`group:"socketfx.services"`))),
		)
		Expect(err).To(MatchError(ContainSubstring("both serve namespace /echo")))
	})

	It("fails the start on a bad pattern, a missing namespace, or a duplicate event", func() {
		err := start(socketservice.AsService(func() badService {
			return badService(func(r *socketservice.Router) { r.NamespacePattern(`^/(unclosed`) })
		}))
		Expect(err).To(MatchError(ContainSubstring("namespace pattern")))

		for route, why := range map[string]string{
			"/tenant/:id":  `route parameters are written {id}, not :id`,
			"/tenant/{id":  `unclosed {`,
			"/tenant/{1d}": `needs a name made of letters`,
			"/t/{id}/{id}": `{id} appears twice`,
			"/t/{id:[0-9}": `route parameter {id}: error parsing regexp`,
			"/tenant/id}":  `} without {`,
		} {
			err = start(socketservice.AsService(func() badService {
				return badService(func(r *socketservice.Router) { r.Namespace(route) })
			}))
			Expect(err).To(MatchError(ContainSubstring(why)), route)
		}

		err = start(socketservice.AsService(func() badService {
			return badService(func(r *socketservice.Router) {})
		}))
		Expect(err).To(MatchError(ContainSubstring("no namespace")))

		err = start(socketservice.AsService(func() badService {
			return badService(func(r *socketservice.Router) {
				r.Namespace("/x")
				h := socketservice.Typed0(func(context.Context) (int, error) { return 1, nil })
				r.Handle("a", h)
				r.Handle("a", h)
				r.Handle("disconnect", h)
			})
		}))
		Expect(err).To(MatchError(And(ContainSubstring(`event "a" registered twice`), ContainSubstring(`"disconnect" is reserved`))))
	})

	It("fails fx.New when AsService is given something that is not a service", func() {
		Expect(start(socketservice.AsService(func() int { return 1 }))).To(MatchError(ContainSubstring("does not implement socketservice.Service")))
		Expect(start(socketservice.AsService(42))).To(MatchError(ContainSubstring("wants a constructor")))
	})

	It("rejects an invalid config", func() {
		err := start(fx.Supply(socketservice.Config{Transports: []string{"carrier-pigeon"}, PingInterval: -1}))
		Expect(err).To(MatchError(And(ContainSubstring("carrier-pigeon"), ContainSubstring("PingInterval"))))
	})
})

type badService func(r *socketservice.Router)

func (b badService) Register(r *socketservice.Router) { b(r) }

var _ = Describe("config switches", func() {
	It("shows internal error messages with ExposeErrors, for development", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho),
			fx.Decorate(func(c socketservice.Config) socketservice.Config { c.ExposeErrors = true; return c }))
		c := connect(srv, "/echo")
		Expect(ackErr(call(c, "fail", ""))).To(Equal(map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "db password is hunter2"}))
	})

	It("drops unknown events silently with IgnoreUnknownEvents", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				c.UnknownEvents = socketservice.IgnoreUnknownEvents
				return c
			}))
		c := connect(srv, "/echo")
		short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := c.EmitWithAck(short, "no-such-event")
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(okData(call(c, "ping"))).To(Equal("pong"))
	})
})
