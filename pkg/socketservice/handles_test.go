package socketservice_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// notifier is an HTTP handler built by fx with an injected *Server and an
// injected service, the way apps push to rooms after changing data.
type notifier struct {
	srv  *socketservice.Server
	echo *echo
}

func (n *notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Room, Event string
		Data        any
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := n.srv.Of("/echo").To(req.Room).Emit(req.Event, req.Data); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

var _ = Describe("namespace handles", func() {
	var (
		srv  *sockettest.Server
		note *notifier
	)
	BeforeEach(func() {
		leakCheck()
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(newEcho),
			socketservice.AsService(func() *tenants { return &tenants{} }),
			fx.Provide(func(s *socketservice.Server, e *echo) *notifier { return &notifier{srv: s, echo: e} }),
			fx.Populate(&note),
		)
	})

	It("lets an HTTP handler built by fx push to a room", func() {
		Expect(note.echo).NotTo(BeNil(), "the service itself is injectable")
		in := connect(srv, "/echo")
		out := connect(srv, "/echo")
		call(in, "join", "news")
		rec := httptest.NewRecorder()
		note.ServeHTTP(rec, httptest.NewRequest("POST", "/notify", strings.NewReader(`{"room":"news","event":"headline","data":{"t":1}}`)))
		Expect(rec.Code).To(Equal(http.StatusAccepted))
		ev, err := in.Next(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sockettest.Event{Name: "headline", Args: []any{map[string]any{"t": float64(1)}}}))
		Consistently(out.Events, "100ms").Should(BeEmpty())
	})

	It("emits to everyone, to rooms, and except rooms", func() {
		a := connect(srv, "/echo")
		b := connect(srv, "/echo")
		call(a, "join", "r1")
		ns := srv.Socket.Of("/echo")
		Expect(ns.Emit("all", 1)).To(Succeed())
		Expect(ns.Except("r1").Emit("not-r1", 2)).To(Succeed())
		Expect(ns.In("r1").Emit("r1", 3)).To(Succeed())
		Eventually(a.Events).Should(Equal([]sockettest.Event{{Name: "all", Args: []any{1.0}}, {Name: "r1", Args: []any{3.0}}}))
		Eventually(b.Events).Should(Equal([]sockettest.Event{{Name: "all", Args: []any{1.0}}, {Name: "not-r1", Args: []any{2.0}}}))
	})

	It("makes sockets join and leave rooms, fetches and disconnects them", func() {
		a := connect(srv, "/echo")
		b := connect(srv, "/echo")
		ns := srv.Socket.Of("/echo")
		Expect(ns.In(a.ID()).SocketsJoin("vip")).To(Succeed())
		socks, err := ns.In("vip").FetchSockets(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(socks).To(HaveLen(1))
		Expect(socks[0].ID).To(Equal(a.ID()))
		Expect(socks[0].Rooms).To(ConsistOf(a.ID(), "vip"))
		Expect(socks[0].Handshake.Auth).To(Equal(map[string]any{}))

		all, err := ns.FetchSockets(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(HaveLen(2))
		Eventually(ns.Count).Should(Equal(2))

		Expect(ns.In(a.ID()).SocketsLeave("vip")).To(Succeed())
		socks, err = ns.In("vip").FetchSockets(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(socks).To(BeEmpty())

		Expect(ns.In(b.ID()).DisconnectSockets(false)).To(Succeed())
		Eventually(b.DisconnectReason).Should(Equal("io server disconnect"))
		Eventually(ns.Count).Should(Equal(1))
		Expect(a.Connected()).To(BeTrue())
	})

	It("collects acks from every client, and reports the ones that did not answer in time", func() {
		a := connect(srv, "/echo")
		b := connect(srv, "/echo")
		a.HandleAck("question", func(args []any) []any { return []any{"a says", args[0]} })
		b.HandleAck("question", func(args []any) []any { return []any{"b says", args[0]} })
		ns := srv.Socket.Of("/echo")
		replies, err := ns.EmitWithAck(ctxT(), "question", 42.0)
		Expect(err).NotTo(HaveOccurred())
		Expect(replies).To(ConsistOf([]any{"a says", 42.0}, []any{"b says", 42.0}))

		c := connect(srv, "/echo") // never answers
		short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		replies, err = ns.EmitWithAck(short, "question", 1.0)
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(replies).To(HaveLen(2))
		_ = c
	})

	It("lets a handler ask its own client for an ack, with a timeout", func() {
		c := connect(srv, "/echo")
		Expect(ackErr(call(c, "confirm", "delete?"))).To(HaveKeyWithValue("code", "TIMEOUT"))
		c.HandleAck("sure?", func(args []any) []any { return []any{"yes", args[0]} })
		Expect(okData(call(c, "confirm", "delete?"))).To(Equal([]any{"yes", "delete?"}))
	})

	It("answers for dynamic children and refuses unknown namespaces", func() {
		t := connect(srv, "/tenant-5")
		Expect(srv.Socket.Of("/tenant-5").Emit("hi", 1)).To(Succeed())
		ev, err := t.Next(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Name).To(Equal("hi"))
		Expect(srv.Socket.Of("/nowhere").Emit("hi")).To(MatchError(socketservice.ErrUnknownNamespace))
		Expect(srv.Socket.Of("/echo").Emit("disconnect")).To(MatchError(ContainSubstring("reserved")))
	})
})

var _ = Describe("lifecycle", func() {
	It("returns ErrNotRunning before start and after stop, never panics", func() {
		leakCheck()
		s, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0"}, socketservice.WithServices(newEcho()))
		Expect(err).NotTo(HaveOccurred())
		ns := s.Of("/echo")
		Expect(ns.Emit("x")).To(MatchError(socketservice.ErrNotRunning))
		_, err = ns.FetchSockets(ctxT())
		Expect(err).To(MatchError(socketservice.ErrNotRunning))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
		Expect(rec.Code).To(Equal(http.StatusServiceUnavailable))

		Expect(s.Start(ctxT())).To(Succeed())
		Expect(ns.Emit("x")).To(Succeed())
		Expect(s.Start(ctxT())).To(MatchError(ContainSubstring("twice")))
		Expect(s.Stop(ctxT())).To(Succeed())
		Expect(ns.Emit("x")).To(MatchError(socketservice.ErrNotRunning))
		Expect(ns.SocketsJoin("r")).To(MatchError(socketservice.ErrNotRunning))
		_, err = ns.EmitWithAck(ctxT(), "x")
		Expect(err).To(MatchError(socketservice.ErrNotRunning))
	})

	It("mounts on an ordinary mux beside HTTP routes", func() {
		leakCheck()
		s, err := socketservice.New(socketservice.Config{}, socketservice.WithServices(newEcho()))
		Expect(err).NotTo(HaveOccurred())
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", s.Handler())
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
		hs := httptest.NewServer(mux)
		DeferCleanup(hs.Close)
		Expect(s.Start(ctxT())).To(Succeed())
		DeferCleanup(func() { Expect(s.Stop(ctxT())).To(Succeed()) })

		res, err := http.Get(hs.URL + "/healthz")
		Expect(err).NotTo(HaveOccurred())
		res.Body.Close()
		Expect(res.StatusCode).To(Equal(http.StatusOK))
		c, err := sockettest.Connect(ctxT(), hs.URL, "/echo")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		Expect(okData(call(c, "ping"))).To(Equal("pong"))
	})

	It("drains running handlers before disconnecting clients on stop", func() {
		leakCheck()
		svc := newEcho()
		s, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0"}, socketservice.WithServices(svc))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Start(ctxT())).To(Succeed())
		c, err := sockettest.Connect(ctxT(), "http://"+s.Addr(), "/echo")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)

		acked := make(chan []any, 1)
		go func() {
			a, _ := c.EmitWithAck(context.Background(), "seq", 1) // held at the gate
			acked <- a
		}()
		Eventually(func() int { s.Of("/echo"); _, m, _, _ := svc.snapshot(); return m }).Should(Equal(1))
		stopped := make(chan error, 1)
		go func() { stopped <- s.Stop(context.Background()) }()
		Consistently(stopped, "200ms").ShouldNot(Receive(), "stop waits for the handler")
		Expect(c.Connected()).To(BeTrue())
		close(svc.gate)
		Eventually(acked).Should(Receive(Equal([]any{map[string]any{"status": "ok", "data": 1.0}})), "the ack reaches the client before it is disconnected")
		Eventually(stopped).Should(Receive(BeNil()))
		Eventually(c.Done()).Should(BeClosed())
		_, _, reasons, _ := svc.snapshot()
		Expect(reasons).To(Equal([]string{"server shutting down"}))
	})

	It("gives up on a stuck handler when the stop context ends, and cancels it", func() {
		leakCheck()
		stuck := make(chan error, 1)
		started := make(chan struct{})
		svc := badService(func(r *socketservice.Router) {
			r.Namespace("/stuck")
			r.Handle("wait", socketservice.Typed0(func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done()
				stuck <- ctx.Err()
				return 0, ctx.Err()
			}))
		})
		s, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0", ShutdownTimeout: 200 * time.Millisecond}, socketservice.WithServices(svc))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Start(ctxT())).To(Succeed())
		c, err := sockettest.Connect(ctxT(), "http://"+s.Addr(), "/stuck")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		Expect(c.Emit("wait")).To(Succeed())
		Eventually(started).Should(BeClosed())
		err = s.Stop(context.Background())
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Eventually(stuck).Should(Receive(MatchError(context.Canceled)))
	})
})
