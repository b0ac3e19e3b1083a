package sockettest_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/goleak"
)

type room struct{}

func (room) Register(r *socketservice.Router) {
	r.Namespace("/room")
	r.Handle("say", socketservice.Typed(func(ctx context.Context, text string) (string, error) {
		if text == "" {
			return "", socketservice.NewError(socketservice.CodeValidation, "text is required")
		}
		s, _ := socketservice.SocketFromContext(ctx)
		return text, s.Emit("said", map[string]any{"text": text})
	}))
	r.Handle("count", socketservice.Typed(func(ctx context.Context, n int) (socketservice.NoReply, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		for i := 0; i < n; i++ {
			if err := s.Emit("n", i); err != nil {
				return socketservice.NoReply{}, err
			}
		}
		return socketservice.NoReply{}, nil
	}))
	r.Handle("kick", socketservice.Typed0(func(ctx context.Context) (socketservice.NoReply, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		s.Disconnect(false)
		return socketservice.NoReply{}, nil
	}))
}

func ctxT() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	time.AfterFunc(6*time.Second, cancel)
	return ctx
}

var _ = Describe("the test kit", func() {
	var srv *sockettest.Server
	BeforeEach(func() {
		before := goleak.IgnoreCurrent()
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
		srv = sockettest.NewServer(GinkgoT(), socketservice.AsService(func() room { return room{} }))
	})
	dial := func() *sockettest.Client {
		c, err := srv.Connect(ctxT(), "/room")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		return c
	}

	Describe("ReceiveEvent", func() {
		It("matches events in order and consumes them", func() {
			c := dial()
			Expect(c.Emit("count", 3)).To(Succeed())
			Eventually(c).Should(sockettest.ReceiveEvent("n", 0.0))
			Eventually(c).Should(sockettest.ReceiveEvent("n", BeNumerically("==", 1)))
			Eventually(c).Should(sockettest.ReceiveEvent("n"))
			Consistently(c, "100ms").ShouldNot(sockettest.ReceiveEvent("n"))
		})

		It("says what was received instead", func() {
			c := dial()
			Expect(c.Emit("say", "hi")).To(Succeed())
			Eventually(c.Events).Should(HaveLen(1))
			m := sockettest.ReceiveEvent("said", HaveKeyWithValue("text", "bye"))
			Expect(m.Match(c)).To(BeFalse())
			Expect(m.FailureMessage(c)).To(And(
				ContainSubstring(`Expected the client to receive event "said"`),
				ContainSubstring("received instead (after the read cursor): said[map[text:hi]]"),
				ContainSubstring("the closest one: argument 1"),
			))
			Expect(sockettest.ReceiveEvent("x").NegatedFailureMessage(c)).To(ContainSubstring(`not to receive event "x"`))
		})

		It("stops waiting once the client is disconnected", func() {
			c := dial()
			Expect(c.Emit("kick")).To(Succeed())
			start := time.Now()
			failure := InterceptGomegaFailure(func() {
				Eventually(c, "4s").Should(sockettest.ReceiveEvent("never"))
			})
			Expect(failure).To(MatchError(ContainSubstring("and the client is disconnected")))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		})
	})

	Describe("ack matchers", func() {
		It("match ok and error envelopes, and explain a mismatch", func() {
			c := dial()
			ok, err := c.EmitWithAck(ctxT(), "say", "hi")
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(sockettest.HaveAckOK())
			Expect(ok).To(sockettest.HaveAckOK("hi"))
			Expect(ok).NotTo(sockettest.HaveAckError("VALIDATION_PAYLOAD_ERROR"))

			bad, err := c.EmitWithAck(ctxT(), "say", "")
			Expect(err).NotTo(HaveOccurred())
			Expect(bad).To(sockettest.HaveAckError("VALIDATION_PAYLOAD_ERROR"))
			Expect(bad).To(sockettest.HaveAckError("VALIDATION_PAYLOAD_ERROR", ContainSubstring("required")))

			m := sockettest.HaveAckOK("bye")
			Expect(m.Match(ok)).To(BeFalse())
			Expect(m.FailureMessage(ok)).To(And(ContainSubstring("to be an ok ack"), ContainSubstring(`to equal`)))
			m = sockettest.HaveAckError("FORBIDDEN")
			Expect(m.Match(bad)).To(BeFalse())
			Expect(m.FailureMessage(bad)).To(ContainSubstring(`its code is VALIDATION_PAYLOAD_ERROR`))
			_, err = sockettest.HaveAckOK().Match("not an ack")
			Expect(err).To(HaveOccurred())
		})
	})

	Describe("connection state", func() {
		It("tells connected from disconnected, with the reason", func() {
			c := dial()
			Expect(c).To(sockettest.BeConnected())
			m := sockettest.BeDisconnectedWith("io server disconnect")
			Expect(m.Match(c)).To(BeFalse())
			Expect(m.FailureMessage(c)).To(ContainSubstring("still connected"))
			Expect(c.Emit("kick")).To(Succeed())
			Eventually(c).Should(sockettest.BeDisconnectedWith("io server disconnect"))
			connected := sockettest.BeConnected()
			Expect(connected.Match(c)).To(BeFalse())
			Expect(connected.FailureMessage(c)).To(ContainSubstring("io server disconnect"))
		})

		It("names the event and what came instead when WaitFor times out", func() {
			c := dial()
			Expect(c.Emit("say", "hi")).To(Succeed())
			short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := c.WaitFor(short, "never")
			Expect(err).To(MatchError(And(ContainSubstring(`waiting for "never"`), ContainSubstring("received: said"))))
		})
	})

	Describe("under load", func() {
		It("dials 1,000 times in a row", func() {
			for i := 0; i < 1000; i++ {
				c, err := srv.Connect(ctxT(), "/room")
				Expect(err).NotTo(HaveOccurred(), "dial %d", i)
				c.Close()
			}
		})

		It("dials 200 clients at once", func() {
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := srv.Connect(ctxT(), "/room")
					if err != nil {
						errs <- err
						return
					}
					if _, err := c.EmitWithAck(ctxT(), "say", "x"); err != nil {
						errs <- err
					}
					c.Close()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
		})

		It("receives 1,000 events in order", func() {
			c := dial()
			Expect(c.Emit("count", 1000)).To(Succeed())
			Eventually(func() int { return len(c.Events()) }).Should(Equal(1000))
			for i, e := range c.Events() {
				Expect(e).To(Equal(sockettest.Event{Name: "n", Args: []any{float64(i)}}), fmt.Sprint("event ", i))
			}
		})
	})
})

var _ = Describe("simulating a dropped connection", func() {
	It("reconnects and recovers the session with the missed events", func() {
		before := goleak.IgnoreCurrent()
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() room { return room{} }),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
				return c
			}))
		c, err := srv.Connect(ctxT(), "/room")
		Expect(err).NotTo(HaveOccurred())
		ns := srv.Socket.Of("/room")
		Expect(ns.Emit("tick", 1)).To(Succeed())
		Eventually(c).Should(sockettest.ReceiveEvent("tick", 1.0))
		Expect(c).NotTo(sockettest.BeRecovered())

		c.Close() // the network fails
		Expect(c).To(sockettest.BeDisconnectedWith("transport close"))
		Eventually(ns.Count).Should(BeZero())
		Expect(ns.Emit("tick", 2)).To(Succeed())

		again, err := c.Reconnect(ctxT())
		Expect(err).NotTo(HaveOccurred())
		defer again.Close()
		Expect(again).To(sockettest.BeRecovered())
		Expect(again.ID()).To(Equal(c.ID()))
		Eventually(again).Should(sockettest.ReceiveEvent("tick", 2.0))
	})
})

var _ = Describe("handlers without a network", func() {
	It("records emits, broadcasts and rooms on a fake socket", func() {
		ev := sockettest.NewEventContext("/room", "greet", sockettest.WithAuth(map[string]any{"name": "ann"}))
		greet := socketservice.Typed(func(ctx context.Context, room string) (string, error) {
			s, _ := socketservice.SocketFromContext(ctx)
			name, _ := s.Handshake().Auth["name"].(string)
			s.Join(room)
			if err := s.To(room).Emit("joined", name); err != nil {
				return "", err
			}
			return "welcome " + name, s.Emit("hello", name)
		})
		out, err := ev.Call(greet, "lobby")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("welcome ann"))
		id := ev.Socket().ID()
		Expect(ev.Rooms()).To(Equal([]string{id, "lobby"}))
		Expect(ev.Emits()).To(Equal([]sockettest.Emit{
			{Rooms: []string{"lobby"}, Except: []string{id}, Event: "joined", Args: []any{"ann"}},
			{Socket: true, Event: "hello", Args: []any{"ann"}},
		}))
	})

	It("decodes and validates arguments as from the wire, and answers acks", func() {
		ev := sockettest.NewEventContext("/room", "say")
		h := socketservice.Typed(func(ctx context.Context, in struct {
			Text string `json:"text"`
		},
		) (any, error) {
			s, _ := socketservice.SocketFromContext(ctx)
			return s.EmitWithAck(ctx, "sure?", in.Text)
		})
		_, err := ev.Call(h, "not an object")
		Expect(socketservice.CodeOf(err)).To(Equal(socketservice.CodeValidation))
		_, err = ev.Call(h, map[string]any{"text": "x"})
		Expect(err).To(MatchError(context.DeadlineExceeded), "nobody acks")
		ev.HandleAck(func(event string, args []any) []any { return []any{"yes", args[0]} })
		Expect(ev.Call(h, map[string]any{"text": "x"})).To(Equal([]any{"yes", "x"}))
	})
})

type served struct{}

func (served) Register(r *socketservice.Router) {
	r.Namespace("/served")
	r.Use(func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			if _, ok := socketservice.IdentityFromContext(ctx); !ok {
				return nil, socketservice.NewError(socketservice.CodeUnauthorized, "who are you?")
			}
			return next(ctx, m)
		}
	})
	r.Handle("shout", socketservice.Typed(func(ctx context.Context, text string) (string, error) {
		return text + "!", nil
	}), socketservice.WithRoomEmit("shouted", "all"))
}

var _ = Describe("serving a service's event without a network", func() {
	It("runs its middleware, decoding and declared emits", func() {
		ev := sockettest.NewEventContext("/served", "shout")
		_, err := ev.Serve(served{}, "hi")
		Expect(socketservice.CodeOf(err)).To(Equal(socketservice.CodeUnauthorized))
		Expect(ev.Emits()).To(BeEmpty())

		ev.Socket().SetIdentity(socketservice.Identity{Subject: "ann"})
		out, err := ev.Serve(served{}, "hi")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("hi!"))
		Expect(ev.Emits()).To(Equal([]sockettest.Emit{{Rooms: []string{"all"}, Event: "shouted", Args: []any{"hi!"}}}))

		_, err = ev.Serve(served{}, 42)
		Expect(socketservice.CodeOf(err)).To(Equal(socketservice.CodeValidation))
		_, err = sockettest.NewEventContext("/served", "nope").Serve(served{})
		Expect(socketservice.CodeOf(err)).To(Equal(socketservice.CodeNotFound))
	})
})

var _ = Describe("the long-polling transport", func() {
	var srv *sockettest.Server
	BeforeEach(func() {
		before := goleak.IgnoreCurrent()
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
		srv = sockettest.NewServer(GinkgoT(), socketservice.AsService(func() room { return room{} }),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
				return c
			}))
	})

	It("acks, receives events in order, binary included, and disconnects cleanly", func() {
		c, err := srv.Connect(ctxT(), "/room", sockettest.WithTransport(sockettest.Polling))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.EmitWithAck(ctxT(), "say", "hi")).To(sockettest.HaveAckOK("hi"))
		Expect(c.Emit("count", 50)).To(Succeed())
		for i := 0; i < 50; i++ {
			Eventually(c).Should(sockettest.ReceiveEvent("n", float64(i)))
		}
		Expect(srv.Socket.Of("/room").To(c.ID()).Emit("bin", []byte{1, 2, 3})).To(Succeed())
		Eventually(c).Should(sockettest.ReceiveEvent("bin", []byte{1, 2, 3}))
		c.Disconnect()
		Eventually(srv.Socket.Of("/room").Count).Should(BeZero())
	})

	It("notices a dropped poll and recovers the session on reconnect", func() {
		c, err := srv.Connect(ctxT(), "/room", sockettest.WithTransport(sockettest.Polling))
		Expect(err).NotTo(HaveOccurred())
		ns := srv.Socket.Of("/room")
		Expect(ns.Emit("tick", 1)).To(Succeed())
		Eventually(c).Should(sockettest.ReceiveEvent("tick", 1.0))
		c.Close()
		Eventually(ns.Count).Should(BeZero(), "the aborted poll is noticed at once, not at the ping timeout")
		Expect(ns.Emit("tick", 2)).To(Succeed())
		again, err := c.Reconnect(ctxT())
		Expect(err).NotTo(HaveOccurred())
		defer again.Close()
		Expect(again).To(sockettest.BeRecovered())
		Eventually(again).Should(sockettest.ReceiveEvent("tick", 2.0))
	})
})

var _ = Describe("NewServer with the app's own Config", func() {
	It("uses it, listening on a free loopback port", func() {
		// An app module that supplies its Config, as main would.
		app := fx.Options(
			fx.Supply(socketservice.Config{Addr: ":3000", Path: "/rt"}),
			socketservice.AsService(func() room { return room{} }),
		)
		srv := sockettest.NewServer(GinkgoT(), app)
		Expect(srv.Socket.Addr()).To(HavePrefix("127.0.0.1:"))
		c, err := srv.Connect(context.Background(), "/room", sockettest.WithPath("/rt"))
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(c.EmitWithAck(context.Background(), "say", "hi")).To(sockettest.HaveAckOK("hi"))
	})
})
