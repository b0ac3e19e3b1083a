package adapter_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

func connect(c *clustertest.Cluster, node int, opts ...sockettest.Option) *sockettest.Client {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := c.Connect(ctx, node, "/room", opts...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cl.Close)
	return cl
}

func join(cl *sockettest.Client, room string) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got string
	Expect(cl.Call(ctx, "join", map[string]any{"room": room}, &got)).To(Succeed())
}

var _ = Describe("a cluster of socketfx nodes", func() {
	var c *clustertest.Cluster
	BeforeEach(func() {
		leakCheck()
		c = clustertest.Start(GinkgoT(), 3, socketservice.AsService(newRoom))
		c.Ready("/room", 10*time.Second)
	})

	It("broadcasts from one node to clients on every node", func() {
		a, b, d := connect(c, 0), connect(c, 1), connect(c, 2)
		Expect(c.Node(1).Socket.Of("/room").Emit("news", "hello", 42.0)).To(Succeed())
		for _, cl := range []*sockettest.Client{a, b, d} {
			Eventually(cl).Should(sockettest.ReceiveEvent("news", "hello", 42.0))
		}
	})

	It("reaches the official Node socket.io-client on another node", func() {
		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		d.Send(map[string]any{"op": "connect", "id": "js", "url": c.Node(1).URL + "/room", "opts": map[string]any{"auth": map[string]any{"name": "js"}}})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "js") }).Should(HaveLen(1))
		goClient := connect(c, 2)
		ns := c.Node(0).Socket.Of("/room")
		Expect(ns.Emit("news", "to all", []byte{7})).To(Succeed())
		Expect(ns.To("user:js").Emit("direct", "to js")).To(Succeed())
		Eventually(func() []nodeclient.Report { return d.Events("js") }).Should(ContainElements(
			And(HaveKeyWithValue("event", "news"), HaveKeyWithValue("args", []any{"to all", map[string]any{"$binary": "Bw=="}})),
			And(HaveKeyWithValue("event", "direct"), HaveKeyWithValue("args", []any{"to js"})),
		))
		Eventually(goClient).Should(sockettest.ReceiveEvent("news", "to all", []byte{7}))
		Expect(eventNames(goClient)).NotTo(ContainElement("direct"))
	})

	It("emits to a room, with except, and to one socket on another node", func() {
		a, b, d := connect(c, 0), connect(c, 1), connect(c, 2)
		join(a, "blue")
		join(b, "blue")
		join(d, "red")
		ns := c.Node(2).Socket.Of("/room")
		Expect(ns.To("blue").Except(b.ID()).Emit("blue-only", 1.0)).To(Succeed())
		Expect(ns.To(b.ID()).Emit("direct", "for b")).To(Succeed())
		Eventually(a).Should(sockettest.ReceiveEvent("blue-only", 1.0))
		Eventually(b).Should(sockettest.ReceiveEvent("direct", "for b"))
		Expect(ns.Emit("fence")).To(Succeed())
		for _, cl := range []*sockettest.Client{a, b, d} {
			Eventually(cl).Should(sockettest.ReceiveEvent("fence"))
		}
		Expect(eventNames(b)).NotTo(ContainElement("blue-only"))
		Expect(eventNames(d)).NotTo(ContainElement("blue-only"))
		Expect(eventNames(a)).NotTo(ContainElement("direct"))
	})

	It("collects acks from clients on every node", func() {
		clients := []*sockettest.Client{connect(c, 0), connect(c, 1), connect(c, 2), connect(c, 2)}
		for i, cl := range clients {
			answer := float64(i)
			cl.HandleAck("vote", func([]any) []any { return []any{answer, "extra"} })
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		replies, err := c.Node(0).Socket.Of("/room").EmitWithAck(ctx, "vote")
		Expect(err).NotTo(HaveOccurred())
		Expect(replies).To(ConsistOf(
			[]any{0.0, "extra"}, []any{1.0, "extra"}, []any{2.0, "extra"}, []any{3.0, "extra"}))
	})

	It("fetches sockets of every node with their rooms, handshake and id", func() {
		a := connect(c, 0, sockettest.WithAuth(map[string]any{"name": "ann"}))
		b := connect(c, 1, sockettest.WithAuth(map[string]any{"name": "bob"}))
		join(b, "blue")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		all, err := c.Node(2).Socket.Of("/room").FetchSockets(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(HaveLen(2))
		byID := map[string]socketservice.RemoteSocket{}
		for _, s := range all {
			byID[s.ID] = s
		}
		Expect(byID).To(HaveKey(a.ID()))
		Expect(byID[b.ID()].Rooms).To(ConsistOf(b.ID(), "user:bob", "blue"))
		Expect(byID[b.ID()].Handshake.Auth).To(HaveKeyWithValue("name", "bob"))
		blue, err := c.Node(0).Socket.Of("/room").To("blue").FetchSockets(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(blue).To(HaveLen(1))
		Expect(blue[0].ID).To(Equal(b.ID()))
		Expect(c.Node(2).Socket.Of("/room").ClusterCount(ctx)).To(Equal(2))
		Expect(c.Node(2).Socket.Count()).To(BeZero())
	})

	It("makes sockets on other nodes join and leave rooms, and disconnects them", func() {
		a, b := connect(c, 0), connect(c, 1)
		ns := c.Node(2).Socket.Of("/room")
		Expect(ns.SocketsJoin("green")).To(Succeed())
		Eventually(func() int { return countIn(c, "green") }).Should(Equal(2))
		Expect(ns.To("green").Emit("in-green")).To(Succeed())
		Eventually(a).Should(sockettest.ReceiveEvent("in-green"))
		Eventually(b).Should(sockettest.ReceiveEvent("in-green"))
		Expect(ns.To(a.ID()).SocketsLeave("green")).To(Succeed())
		Eventually(func() int { return countIn(c, "green") }).Should(Equal(1))
		Expect(ns.To(b.ID()).DisconnectSockets(false)).To(Succeed())
		Eventually(b).Should(sockettest.BeDisconnectedWith("io server disconnect"))
		Expect(a.Connected()).To(BeTrue())
	})

	It("sends server events to the other nodes, with and without answers", func() {
		ns := c.Node(0).Socket.Of("/room")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		answers, err := ns.ServerSideEmitWithAck(ctx, "whoami")
		Expect(err).NotTo(HaveOccurred())
		Expect(answers).To(ConsistOf(c.Node(1).Adapter.UID(), c.Node(2).Adapter.UID()))

		answers, err = ns.ServerSideEmitWithAck(ctx, "fail")
		Expect(err).NotTo(HaveOccurred())
		Expect(answers).To(HaveLen(2))
		Expect(answers[0]).To(HaveKeyWithValue("error", HaveKeyWithValue("code", "FORBIDDEN")))

		Expect(ns.ServerSideEmit("note", "a", "b")).To(Succeed())
		Eventually(notes).Should(Receive(Equal("a b\n")))
		Eventually(notes).Should(Receive(Equal("a b\n")))
		Consistently(notes, 100*time.Millisecond).ShouldNot(Receive(), "the sender does not hear itself")
	})

	It("counts nodes: a clean stop at once, a crash when its heartbeats are overdue", func() {
		ns := c.Node(0).Socket.Of("/room")
		Expect(ns.ServerCount()).To(Equal(3))
		c.Node(1).Stop()
		Eventually(ns.ServerCount).Within(500 * time.Millisecond).Should(Equal(2))
		crashed := time.Now()
		c.Node(2).Crash()
		Eventually(ns.ServerCount).Within(3 * time.Second).Should(Equal(1))
		Expect(time.Since(crashed)).To(BeNumerically(">=", clustertest.AdapterConfig.HeartbeatTimeout/2),
			"a crashed node says no goodbye: it is dropped by the heartbeat timeout")
	})
})

func eventNames(cl *sockettest.Client) []string {
	var out []string
	for _, e := range cl.Events() {
		out = append(out, e.Name)
	}
	return out
}

func countIn(c *clustertest.Cluster, room string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	socks, err := c.Node(0).Socket.Of("/room").To(room).FetchSockets(ctx)
	if err != nil {
		return -1
	}
	return len(socks)
}
