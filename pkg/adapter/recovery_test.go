package adapter_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

func withRecovery(window time.Duration) fx.Option {
	return fx.Decorate(func(c socketservice.Config) socketservice.Config {
		c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: window}
		return c
	})
}

func nArgs(d *nodeclient.Driver, id string) []any {
	var got []any
	for _, r := range d.Events(id) {
		if r["event"] == "n" {
			got = append(got, r["args"].([]any)[0])
		}
	}
	return got
}

var _ = Describe("connection-state recovery across nodes", func() {
	var c *clustertest.Cluster
	BeforeEach(func() {
		leakCheck()
	})

	DescribeTable("a client whose node went away recovers on another: id, session, rooms, 50 missed events",
		func(transport string) {
			c = clustertest.Start(GinkgoT(), 2, socketservice.AsService(newRoom), adapter.Sessions, withRecovery(time.Minute))
			c.Ready("/room", 10*time.Second)
			d, err := nodeclient.Start()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(d.Close)
			d.Send(map[string]any{
				"op": "connect", "id": "a", "url": c.Node(0).URL + "/room",
				"opts": map[string]any{"transports": []string{transport}, "auth": map[string]any{"name": "ann"}},
			})
			Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(1))
			first := d.Find("connect", "a")[0]
			d.Send(map[string]any{"op": "emit", "id": "a", "event": "join", "args": []any{map[string]any{"room": "blue"}}, "ack": true, "seq": 1})
			Eventually(func() []nodeclient.Report { return d.Find("ack", "a") }).Should(HaveLen(1))

			By("dropping the transport, then emitting from the other node while the client is away")
			d.Send(map[string]any{"op": "drop", "id": "a"})
			Eventually(c.Node(0).Socket.Of("/room").Count).Should(BeZero())
			ns := c.Node(1).Socket.Of("/room")
			sid := first["sid"].(string)
			for i := 0; i < 50; i++ {
				target := ns
				switch i % 3 {
				case 0:
					target = ns.To(sid)
				case 1:
					target = ns.To("blue")
				}
				Expect(target.Emit("n", float64(i))).To(Succeed())
			}

			By("reconnecting to the other node")
			d.Send(map[string]any{"op": "connectagain", "id": "a", "url": c.Node(1).URL + "/room"})
			Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
			again := d.Find("connect", "a")[1]
			Expect(again["recovered"]).To(BeTrue())
			Expect(again["sid"]).To(Equal(sid))
			want := make([]any, 50)
			for i := range want {
				want[i] = float64(i)
			}
			Eventually(func() []any { return nArgs(d, "a") }).Should(Equal(want))
			Consistently(func() []any { return nArgs(d, "a") }, "200ms").Should(HaveLen(50))

			d.Send(map[string]any{"op": "emit", "id": "a", "event": "whoami", "args": []any{}, "ack": true, "seq": 2})
			Eventually(func() []nodeclient.Report { return d.Find("ack", "a") }).Should(HaveLen(2))
			who := d.Find("ack", "a")[1]["args"].([]any)[0].(map[string]any)["data"].(map[string]any)
			Expect(who["node"]).To(Equal(c.Node(1).Adapter.UID()), "served by the other node")
			Expect(who["name"]).To(Equal("ann"))
			Expect(who["joined"]).To(Equal([]any{"blue"}))
			Expect(who["rooms"]).To(ContainElements("blue", "user:ann"))
		},
		Entry("over websocket", "websocket"),
		Entry("over long-polling", "polling"),
	)

	It("reports a session that expired unclaimed once, on one node of the cluster", func() {
		c = clustertest.Start(GinkgoT(), 2, socketservice.AsService(newRoom), adapter.Sessions, withRecovery(300*time.Millisecond))
		c.Ready("/room", 10*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl, err := c.Connect(ctx, 0, "/room", sockettest.WithAuth(map[string]any{"name": "bo"}))
		Expect(err).NotTo(HaveOccurred())
		id := cl.ID()
		cl.Close()
		Eventually(expiredSessions).Should(Receive(Equal(id)))
		Consistently(expiredSessions, "600ms").ShouldNot(Receive())
		back, err := cl.ReconnectTo(ctx, c.Node(1).URL)
		Expect(err).NotTo(HaveOccurred())
		defer back.Close()
		Expect(back.Recovered()).To(BeFalse())
	})

	It("refuses to start a cluster with recovery but a session store in memory", func() {
		r := redistest.Start(GinkgoT())
		app := fx.New(
			socketservice.Module, adapter.Module,
			fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}, adapter.Config{URL: r.URL()}),
			socketservice.AsService(newRoom), withRecovery(time.Minute),
			fx.NopLogger,
		)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := app.Start(ctx)
		Expect(err).To(MatchError(ContainSubstring("pkg/session/redisstore")))
		_ = app.Stop(ctx)
	})
})
