package adapter_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// nodeServer runs interop/cluster-server.js: a Node socket.io server with
// @socket.io/redis-adapter and @socket.io/redis-emitter on redisURL.
func nodeServer(redisURL string) (*nodeclient.Driver, string) {
	GinkgoHelper()
	d, err := nodeclient.StartScript("cluster-server.js", redisURL, "/room")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		d.Send(map[string]any{"op": "exit"})
		d.Close()
	})
	Eventually(func() []nodeclient.Report { return d.Find("listening", "") }).Should(HaveLen(1), func() string {
		return fmt.Sprintf("reports: %v\nstderr: %s", d.Reports(), d.Stderr())
	})
	port := d.Find("listening", "")[0]["port"].(float64)
	return d, fmt.Sprintf("http://127.0.0.1:%d", int(port))
}

var _ = Describe("a mixed cluster with a Node socket.io server and emitter", func() {
	var (
		c       *clustertest.Cluster
		node    *nodeclient.Driver
		nodeURL string
		onGo    *sockettest.Client // on the socketfx node
		onNode  *sockettest.Client // on the Node server
		ns      socketservice.Namespace
		ctx     context.Context
	)
	BeforeEach(func() {
		leakCheck()
		r := redistest.Start(GinkgoT())
		c = clustertest.StartOn(GinkgoT(), r, 1, socketservice.AsService(newRoom))
		node, nodeURL = nodeServer(r.URL())
		ns = c.Node(0).Socket.Of("/room")
		Eventually(ns.ServerCount).Should(Equal(2), "the Node server is counted (it sends no heartbeats)")
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		DeferCleanup(cancel)
		onGo = connect(c, 0)
		var err error
		onNode, err = sockettest.Connect(ctx, nodeURL, "/room")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(onNode.Close)
	})

	It("exchanges broadcasts, binary included, both ways", func() {
		Expect(ns.Emit("from-go", "x", []byte{1, 2, 3})).To(Succeed())
		Eventually(onNode).Should(sockettest.ReceiveEvent("from-go", "x", []byte{1, 2, 3}))
		node.Send(map[string]any{"op": "emit", "event": "from-node", "args": []any{map[string]any{"n": 1}}})
		Eventually(onGo).Should(sockettest.ReceiveEvent("from-node", map[string]any{"n": 1.0}))
	})

	It("exchanges room emits both ways, with except", func() {
		join(onGo, "blue")
		var got []any
		got, err := onNode.EmitWithAck(ctx, "join", "blue")
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]any{"blue"}))

		Expect(ns.To("blue").Emit("blue-go")).To(Succeed())
		Eventually(onNode).Should(sockettest.ReceiveEvent("blue-go"))
		node.Send(map[string]any{"op": "emit", "rooms": []string{"blue"}, "except": []string{onNode.ID()}, "event": "blue-node"})
		Eventually(onGo).Should(sockettest.ReceiveEvent("blue-node"))
		Expect(ns.Emit("fence")).To(Succeed())
		Eventually(onNode).Should(sockettest.ReceiveEvent("fence"))
		Expect(eventNames(onNode)).NotTo(ContainElement("blue-node"))
	})

	It("delivers what a Node @socket.io/redis-emitter sends, and applies its room changes", func() {
		node.Send(map[string]any{"op": "emitter", "event": "from-emitter", "args": []any{"all"}})
		Eventually(onGo).Should(sockettest.ReceiveEvent("from-emitter", "all"))
		node.Send(map[string]any{"op": "emitterJoin", "rooms": []string{onGo.ID()}, "join": "vip"})
		Eventually(func() []string { return roomsOf(ns, onGo.ID()) }).Should(ContainElement("vip"))
		node.Send(map[string]any{"op": "emitter", "rooms": []string{"vip"}, "event": "vip-only"})
		Eventually(onGo).Should(sockettest.ReceiveEvent("vip-only"))
	})

	It("fetches sockets, collects acks and passes server events across the two", func() {
		all, err := ns.FetchSockets(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(HaveLen(2))
		node.Send(map[string]any{"op": "fetch", "seq": 1})
		Eventually(func() []nodeclient.Report { return node.Find("fetched", "") }).Should(ConsistOf(
			HaveKeyWithValue("sockets", ConsistOf(HaveKeyWithValue("id", onGo.ID()), HaveKeyWithValue("id", onNode.ID())))))

		onGo.HandleAck("vote", func([]any) []any { return []any{"go"} })
		onNode.HandleAck("vote", func([]any) []any { return []any{"node"} })
		replies, err := ns.EmitWithAck(ctx, "vote")
		Expect(err).NotTo(HaveOccurred())
		Expect(replies).To(ConsistOf([]any{"go"}, []any{"node"}))

		Expect(ns.ServerSideEmit("note", "hi")).To(Succeed())
		Eventually(func() []nodeclient.Report { return node.Find("serverEvent", "") }).Should(ConsistOf(
			HaveKeyWithValue("args", []any{"hi"})))
		node.Send(map[string]any{"op": "serverSideEmit", "event": "note", "args": []any{"from", "node"}})
		Eventually(notes).Should(Receive(Equal("from node\n")))
	})
})

func roomsOf(ns socketservice.Namespace, id string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	socks, err := ns.To(id).Local().FetchSockets(ctx)
	if err != nil || len(socks) != 1 {
		return nil
	}
	return socks[0].Rooms
}
