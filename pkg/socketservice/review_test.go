package socketservice_test

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// announcer uses its own namespace handle from its init hook, on a fixed
// namespace (which runs during Start).
type announcer struct{ emitted chan error }

func (a *announcer) Register(r *socketservice.Router) {
	r.Namespace("/news")
	r.OnInit(func(ctx context.Context, ns socketservice.Namespace) {
		a.emitted <- ns.Emit("ready", ns.Count())
	})
	r.Handle("ping", socketservice.Typed0(func(ctx context.Context) (string, error) { return "pong", nil }))
}

var _ = Describe("review defects", func() {
	It("runs an init hook that uses its namespace handle without deadlocking Start", func() {
		leakCheck()
		a := &announcer{emitted: make(chan error, 1)}
		srv, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0"}, socketservice.WithServices(a))
		Expect(err).NotTo(HaveOccurred())
		started := make(chan error, 1)
		go func() { started <- srv.Start(context.Background()) }()
		Eventually(started).Should(Receive(Not(HaveOccurred())), "Start returns")
		DeferCleanup(func() { Expect(srv.Stop(context.Background())).To(Succeed()) })
		Expect(a.emitted).To(Receive(Not(HaveOccurred())), "the hook's emit worked")
	})

	It("counts and fetches a socket as soon as its client is told it is connected", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho))
		ns := srv.Socket.Of("/echo")
		for i := range 200 {
			c, err := srv.Connect(ctxT(), "/echo", sockettest.WithTransport(sockettest.WebSocket))
			Expect(err).NotTo(HaveOccurred())
			Expect(ns.Count()).To(Equal(1), "try %d: Count right after Connect", i)
			socks, err := ns.FetchSockets(ctxT())
			Expect(err).NotTo(HaveOccurred())
			ids := make([]string, len(socks))
			for j, s := range socks {
				ids[j] = s.ID
			}
			Expect(ids).To(ConsistOf(c.ID()), "try %d: FetchSockets right after Connect", i)
			c.Close()
			Eventually(ns.Count).Should(BeZero())
		}
	})

	It("accepts a cross-origin websocket without CORS configured, as Node's socket.io does", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho))
		c, err := srv.Connect(ctxT(), "/echo", sockettest.WithTransport(sockettest.WebSocket),
			sockettest.WithHeader(http.Header{"Origin": {"http://elsewhere.example"}}))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		Expect(okData(call(c, "ping"))).To(Equal("pong"))
	})

	It("never counts a socket whose connection closed while its connect hooks ran", func() {
		leakCheck()
		returned := make(chan struct{})
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() slowHook { return slowHook{returned} }))
		ws := dialRawNoConnect(srv.URL)
		Expect(ws.WriteMessage(websocket.TextMessage, []byte("40/slow,"))).To(Succeed())
		Expect(ws.Close()).To(Succeed())
		// The hook returns once the dropped socket's context ends, and lets it in.
		Eventually(returned, 5*time.Second).Should(BeClosed())
		Consistently(srv.Socket.Of("/slow").Count, 500*time.Millisecond).Should(BeZero())
	})

	It("answers ErrNotRunning, never panics, on the zero Namespace", func() {
		var ns socketservice.Namespace
		Expect(ns.Emit("x")).To(MatchError(socketservice.ErrNotRunning))
		Expect(ns.Count()).To(BeZero())
		_, err := ns.ServerCount()
		Expect(err).To(MatchError(socketservice.ErrNotRunning))
	})
})

// slowHook's connect hook waits until its socket's context ends (the
// connection closed during the handshake), then accepts it.
type slowHook struct{ returned chan struct{} }

func (h slowHook) Register(r *socketservice.Router) {
	r.Namespace("/slow")
	r.OnConnect(func(ctx context.Context, _ *socketservice.Socket) error {
		<-ctx.Done()
		close(h.returned)
		return nil
	})
}
