package socketservice_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// profile is the typed session state of the sessions service.
type profile struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
}

// sessions keeps a display name and joined rooms in the socket's session.
type sessions struct{ expired chan *session.Session }

func (s *sessions) Register(r *socketservice.Router) {
	r.Namespace("/sess")
	r.OnConnect(func(ctx context.Context, sock *socketservice.Socket) error {
		if sock.Recovered() {
			return nil
		}
		name, _ := sock.Handshake().Auth["name"].(string)
		return session.Update(sock.Session(), func(p *profile) { p.Name = name })
	})
	r.Handle("join", socketservice.Typed(func(ctx context.Context, room string) (string, error) {
		sock, _ := socketservice.SocketFromContext(ctx)
		sock.Join(room)
		sess, _ := session.FromContext(ctx)
		return room, session.Update(sess, func(p *profile) { p.Rooms = append(p.Rooms, room) })
	}))
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (map[string]any, error) {
		sock, _ := socketservice.SocketFromContext(ctx)
		p, err := session.Load[profile](sock.Session())
		return map[string]any{"name": p.Name, "joined": p.Rooms, "rooms": sock.Rooms()}, err
	}))
	r.OnSessionExpired(func(ctx context.Context, sess *session.Session) { s.expired <- sess })
}

func recoveryServer(window time.Duration, store session.Store) (*sockettest.Server, *sessions) {
	svc := &sessions{expired: make(chan *session.Session, 8)}
	opts := []fx.Option{
		socketservice.AsService(func() *sessions { return svc }),
		fx.Decorate(func(c socketservice.Config) socketservice.Config {
			c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: window}
			return c
		}),
	}
	if store != nil {
		opts = append(opts, fx.Supply(fx.Annotate(store, fx.As(new(session.Store)))))
	}
	return sockettest.NewServer(GinkgoT(), opts...), svc
}

// eventArgs returns the first argument of each "n" event client id got.
func eventArgs(d *nodeclient.Driver, id string) []any {
	var got []any
	for _, r := range d.Events(id) {
		if r["event"] == "n" {
			got = append(got, r["args"].([]any)[0])
		}
	}
	return got
}

// emitWhileAway sends n events "n" with 0…n-1: to the socket's id, to a
// room it joined, and to the whole namespace, in turn.
func emitWhileAway(ns socketservice.Namespace, sid, room string, n int) {
	GinkgoHelper()
	for i := 0; i < n; i++ {
		target := ns
		switch i % 3 {
		case 0:
			target = ns.To(sid)
		case 1:
			target = ns.To(room)
		}
		Expect(target.Emit("n", float64(i))).To(Succeed())
	}
}

func upTo(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = float64(i)
	}
	return out
}

var _ = Describe("sessions and connection-state recovery (official Node client)", func() {
	BeforeEach(func() { leakCheck() })

	DescribeTable("a dropped transport: session, rooms and 50 missed events come back, once and in order",
		func(transport string) {
			srv, _ := recoveryServer(time.Minute, nil)
			ns := srv.Socket.Of("/sess")
			d := startNode()
			first := nodeConnect(d, "a", srv.URL+"/sess", map[string]any{"transports": []string{transport}, "auth": map[string]any{"name": "ann"}})
			Expect(first["recovered"]).To(BeFalse())
			Expect(nodeCall(d, "a", "join", "lobby")["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": "lobby"}}))

			d.Send(map[string]any{"op": "drop", "id": "a"})
			Eventually(func() []nodeclient.Report { return d.Find("disconnect", "a") }).Should(HaveLen(1))
			Eventually(ns.Count).Should(BeZero())
			emitWhileAway(ns, first["sid"].(string), "lobby", 50)

			d.Send(map[string]any{"op": "connectagain", "id": "a"})
			Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
			again := d.Find("connect", "a")[1]
			Expect(again["recovered"]).To(BeTrue())
			Expect(again["sid"]).To(Equal(first["sid"]))
			Eventually(func() []any { return eventArgs(d, "a") }).Should(Equal(upTo(50)))
			Consistently(func() []any { return eventArgs(d, "a") }, "200ms").Should(HaveLen(50), "each exactly once")

			who := nodeCall(d, "a", "whoami")["args"].([]any)[0].(map[string]any)["data"].(map[string]any)
			Expect(who["name"]).To(Equal("ann"))
			Expect(who["joined"]).To(Equal([]any{"lobby"}))
			Expect(who["rooms"]).To(ContainElement("lobby"))
		},
		Entry("over websocket", "websocket"),
		Entry("over long-polling", "polling"),
	)

	It("recovers a client that never received a packet (it has no offset)", func() {
		srv, _ := recoveryServer(time.Minute, nil)
		ns := srv.Socket.Of("/sess")
		d := startNode()
		first := nodeConnect(d, "a", srv.URL+"/sess", map[string]any{"transports": []string{"websocket"}, "auth": map[string]any{"name": "ann"}})
		d.Send(map[string]any{"op": "drop", "id": "a"})
		Eventually(ns.Count).Should(BeZero())
		emitWhileAway(ns, first["sid"].(string), "nobody-joined", 6)
		d.Send(map[string]any{"op": "connectagain", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
		Expect(d.Find("connect", "a")[1]["recovered"]).To(BeTrue())
		Eventually(func() []any { return eventArgs(d, "a") }).Should(Equal([]any{0.0, 2.0, 3.0, 5.0}),
			"the events to its id and to the namespace; not those to a room it never joined")
	})

	It("gives a new session past the window, and reports the old one expired once", func() {
		srv, svc := recoveryServer(300*time.Millisecond, nil)
		d := startNode()
		first := nodeConnect(d, "a", srv.URL+"/sess", map[string]any{"transports": []string{"websocket"}, "auth": map[string]any{"name": "ann"}})
		Expect(srv.Socket.Of("/sess").Emit("n", 0.0)).To(Succeed())
		Eventually(func() []any { return eventArgs(d, "a") }).Should(HaveLen(1))
		d.Send(map[string]any{"op": "drop", "id": "a"})
		var gone *session.Session
		Eventually(svc.expired).Should(Receive(&gone))
		Expect(gone.ID()).To(Equal(first["sid"]))
		p, err := session.Load[profile](gone)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Name).To(Equal("ann"), "the hook sees the session's last values")

		d.Send(map[string]any{"op": "connectagain", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
		again := d.Find("connect", "a")[1]
		Expect(again["recovered"]).To(BeFalse())
		Expect(again["sid"]).NotTo(Equal(first["sid"]))
		Consistently(svc.expired, "500ms").ShouldNot(Receive(), "once")
	})

	It("discards the session on a clean disconnect", func() {
		store := session.NewMemoryStore()
		srv, svc := recoveryServer(time.Minute, store)
		d := startNode()
		first := nodeConnect(d, "a", srv.URL+"/sess", map[string]any{"transports": []string{"websocket"}})
		Expect(srv.Socket.Of("/sess").Emit("n", 0.0)).To(Succeed())
		Eventually(func() []any { return eventArgs(d, "a") }).Should(HaveLen(1))
		d.Send(map[string]any{"op": "disconnect", "id": "a"})
		Eventually(srv.Socket.Of("/sess").Count).Should(BeZero())
		Eventually(store.Len).Should(BeZero())
		d.Send(map[string]any{"op": "connectagain", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
		again := d.Find("connect", "a")[1]
		Expect(again["recovered"]).To(BeFalse())
		Expect(again["sid"]).NotTo(Equal(first["sid"]))
		Consistently(svc.expired, "200ms").ShouldNot(Receive())
	})
})

var _ = Describe("the Go test client and sessions", func() {
	It("simulates a transport drop and reports the recovery", func() {
		leakCheck()
		srv, _ := recoveryServer(time.Minute, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := srv.Connect(ctx, "/sess", sockettest.WithAuth(map[string]any{"name": "zoe"}))
		Expect(err).NotTo(HaveOccurred())
		var room string
		Expect(c.Call(ctx, "join", "den", &room)).To(Succeed())
		c.Close() // a dropped transport, not a clean disconnect
		Eventually(srv.Socket.Of("/sess").Count).Should(BeZero())
		Expect(srv.Socket.Of("/sess").To("den").Emit("n", 1.0)).To(Succeed())
		back, err := c.Reconnect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer back.Close()
		Expect(back).To(sockettest.BeRecovered())
		Eventually(back).Should(sockettest.ReceiveEvent("n", 1.0))
		Expect(back.Offset()).NotTo(BeEmpty(), "the offset is kept, out of the arguments")
		var who map[string]any
		Expect(back.Call(ctx, "whoami", nil, &who)).To(Succeed())
		Expect(who["name"]).To(Equal("zoe"))
		Expect(fmt.Sprint(who["joined"])).To(Equal("[den]"))
	})
})

// guarded sets an identity in its connection middleware.
type guarded struct{}

func (guarded) Register(r *socketservice.Router) {
	r.Namespace("/guarded")
	r.UseConnect(socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		name, _ := s.Handshake().Auth["name"].(string)
		s.SetIdentity(socketservice.Identity{Subject: name})
		return nil
	}))
	r.Handle("me", socketservice.Typed0(func(ctx context.Context) (string, error) {
		id, ok := socketservice.IdentityFromContext(ctx)
		if !ok {
			return "", socketservice.NewError(socketservice.CodeUnauthorized, "no identity")
		}
		return id.Subject, nil
	}))
}

var _ = It("keeps the identity of a recovered socket whose connection middleware is skipped", func() {
	leakCheck()
	srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() guarded { return guarded{} }),
		fx.Decorate(func(c socketservice.Config) socketservice.Config {
			c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute, SkipMiddlewares: true}
			return c
		}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := srv.Connect(ctx, "/guarded", sockettest.WithAuth(map[string]any{"name": "kim"}))
	Expect(err).NotTo(HaveOccurred())
	c.Close()
	Eventually(srv.Socket.Of("/guarded").Count).Should(BeZero())
	back, err := c.Reconnect(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer back.Close()
	Expect(back).To(sockettest.BeRecovered())
	var me string
	Expect(back.Call(ctx, "me", nil, &me)).To(Succeed())
	Expect(me).To(Equal("kim"))
})
