package socketservice_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// startNode runs the official socket.io-client in Node for one spec.
func startNode() *nodeclient.Driver {
	d, err := nodeclient.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(d.Close)
	return d
}

// nodeConnect connects client id and waits for its connect report.
func nodeConnect(d *nodeclient.Driver, id, url string, opts map[string]any) nodeclient.Report {
	d.Send(map[string]any{"op": "connect", "id": id, "url": url, "opts": opts})
	var r nodeclient.Report
	EventuallyWithOffset(1, func() []nodeclient.Report { return d.Find("connect", id) }).Should(HaveLen(1), func() string {
		return fmt.Sprintf("reports: %v\nstderr: %s", d.Reports(), d.Stderr())
	})
	r = d.Find("connect", id)[0]
	return r
}

var seq int

// nodeCall emits with ack and returns the ack report.
func nodeCall(d *nodeclient.Driver, id, event string, args ...any) nodeclient.Report {
	seq++
	n := seq
	if args == nil {
		args = []any{}
	}
	d.Send(map[string]any{"op": "emit", "id": id, "event": event, "args": args, "ack": true, "seq": n, "timeout": 4000})
	var found nodeclient.Report
	EventuallyWithOffset(1, func() bool {
		for _, r := range d.Find("ack", id) {
			if r["seq"] == float64(n) {
				found = r
				return true
			}
		}
		return false
	}).Should(BeTrue(), "no ack for %s", event)
	return found
}

var _ = Describe("interop with the official Node socket.io-client@4", func() {
	var (
		srv *sockettest.Server
		d   *nodeclient.Driver
	)
	BeforeEach(func() {
		leakCheck()
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(newEcho),
			socketservice.AsService(func() *tenants { return &tenants{} }),
			socketservice.AsService(func() gated { return gated{} }),
		)
		d = startNode()
	})

	DescribeTable("a client session",
		func(opts map[string]any, wantTransport string) {
			a := nodeConnect(d, "a", srv.URL+"/echo", opts)
			b := nodeConnect(d, "b", srv.URL+"/echo", opts)
			if wantTransport == "upgrade" {
				Eventually(func() []nodeclient.Report { return d.Find("upgrade", "a") }).Should(HaveLen(1))
			} else {
				Expect(a["transport"]).To(Equal(wantTransport))
			}

			By("ack round trip with the ok envelope")
			ack := nodeCall(d, "a", "say", map[string]any{"text": "hi"})
			Expect(ack["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"text": "hi", "from": a["sid"]}}}))

			By("handshake auth is {} when none was sent")
			ack = nodeCall(d, "a", "whoami")
			Expect(ack["args"].([]any)[0]).To(HaveKeyWithValue("data", HaveKeyWithValue("auth", map[string]any{})))

			By("validation error envelope")
			ack = nodeCall(d, "a", "say", "nope")
			Expect(ack["args"].([]any)[0]).To(HaveKeyWithValue("status", "error"))

			By("server emit through a namespace handle")
			Expect(srv.Socket.Of("/echo").Emit("news", map[string]any{"n": 1})).To(Succeed())
			Eventually(func() []nodeclient.Report { return d.Events("b") }).Should(ContainElement(HaveKeyWithValue("event", "news")))

			By("rooms")
			nodeCall(d, "b", "join", "lobby")
			Expect(srv.Socket.Of("/echo").To("lobby").Emit("lobby-only", 1)).To(Succeed())
			Eventually(func() []nodeclient.Report { return d.Events("b") }).Should(ContainElement(HaveKeyWithValue("event", "lobby-only")))

			By("broadcast to others")
			nodeCall(d, "a", "say:others", map[string]any{"text": "to b"})
			Eventually(func() []nodeclient.Report { return d.Events("b") }).Should(ContainElement(HaveKeyWithValue("args", []any{map[string]any{"text": "to b", "from": a["sid"]}})))
			Expect(d.Events("a")).NotTo(ContainElement(HaveKeyWithValue("event", "said")))
			Expect(d.Events("a")).NotTo(ContainElement(HaveKeyWithValue("event", "lobby-only")))

			By("binary round trip")
			Expect(srv.Socket.Of("/echo").To(b["sid"].(string)).Emit("bin", []byte{1, 2, 3})).To(Succeed())
			Eventually(func() []nodeclient.Report { return d.Events("b") }).Should(ContainElement(HaveKeyWithValue("args", []any{map[string]any{"$binary": "AQID"}})))

			By("dynamic namespace")
			nodeConnect(d, "t", srv.URL+"/tenant-42", opts)
			ack = nodeCall(d, "t", "whoami")
			Expect(ack["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"namespace": "/tenant-42"}}}))

			By("handshake rejection with data")
			d.Send(map[string]any{"op": "connect", "id": "r", "url": srv.URL + "/gated", "opts": opts})
			Eventually(func() []nodeclient.Report { return d.Find("connect_error", "r") }).Should(ConsistOf(And(
				HaveKeyWithValue("message", "unauthorized"),
				HaveKeyWithValue("data", map[string]any{"code": "UNAUTHORIZED", "hint": "send auth.name"}),
			)))

			By("unknown namespace refusal with a code")
			d.Send(map[string]any{"op": "connect", "id": "u", "url": srv.URL + "/nowhere", "opts": opts})
			Eventually(func() []nodeclient.Report { return d.Find("connect_error", "u") }).Should(ConsistOf(And(
				HaveKeyWithValue("message", "Invalid namespace"),
				HaveKeyWithValue("data", map[string]any{"code": "INVALID_NAMESPACE"}),
			)))

			By("hook emits before connect reach the client")
			d.Send(map[string]any{"op": "connect", "id": "g", "url": srv.URL + "/gated", "opts": mergeOpts(opts, map[string]any{"auth": map[string]any{"name": "zoe"}})})
			Eventually(func() []nodeclient.Report { return d.Events("g") }).Should(ContainElement(HaveKeyWithValue("args", []any{"zoe"})))

			By("clean disconnect")
			d.Send(map[string]any{"op": "disconnect", "id": "a"})
			Eventually(func() []nodeclient.Report { return d.Find("disconnect", "a") }).Should(ConsistOf(HaveKeyWithValue("reason", "io client disconnect")))
			Eventually(srv.Socket.Of("/echo").Count).Should(Equal(1))
		},
		Entry("over websocket", map[string]any{"transports": []string{"websocket"}}, "websocket"),
		Entry("over long-polling", map[string]any{"transports": []string{"polling"}}, "polling"),
		Entry("over polling upgraded to websocket", map[string]any{}, "upgrade"),
	)

	It("receives a burst of 300 broadcasts complete and in order", func() {
		nodeConnect(d, "a", srv.URL+"/echo", map[string]any{"transports": []string{"websocket"}})
		ns := srv.Socket.Of("/echo")
		for i := 0; i < 300; i++ {
			Expect(ns.Emit("n", i)).To(Succeed())
		}
		Eventually(func() int { return len(d.Events("a")) }).Should(Equal(300))
		for i, r := range d.Events("a") {
			Expect(r["args"]).To(Equal([]any{float64(i)}))
		}
	})

	It("handles 5 pipelined messages in order", func() {
		nodeConnect(d, "a", srv.URL+"/echo", map[string]any{"transports": []string{"websocket"}})
		for i := 1; i <= 5; i++ {
			d.Send(map[string]any{"op": "emit", "id": "a", "event": "say:emit", "args": []any{map[string]any{"text": fmt.Sprint(i)}}})
		}
		Eventually(func() []any {
			var texts []any
			for _, r := range d.Events("a") {
				texts = append(texts, r["args"].([]any)[0].(map[string]any)["text"])
			}
			return texts
		}).Should(Equal([]any{"1", "2", "3", "4", "5"}))
	})
})

func mergeOpts(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

var _ = Describe("connection-state recovery (engine regression)", func() {
	It("does not panic, and recovers a dropped client with its id and missed events", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(),
			socketservice.AsService(newEcho),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
				return c
			}),
		)
		d := startNode()
		first := nodeConnect(d, "a", srv.URL+"/echo", map[string]any{"transports": []string{"websocket"}})
		Expect(first["recovered"]).To(BeFalse())
		// A first packet gives the client an offset to recover from.
		Expect(srv.Socket.Of("/echo").Emit("tick", 0)).To(Succeed())
		Eventually(func() int { return len(d.Events("a")) }).Should(Equal(1))

		d.Send(map[string]any{"op": "drop", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "a") }).Should(HaveLen(1))
		Eventually(srv.Socket.Of("/echo").Count).Should(BeZero())
		for i := 1; i <= 3; i++ {
			Expect(srv.Socket.Of("/echo").Emit("tick", i)).To(Succeed())
		}
		d.Send(map[string]any{"op": "connectagain", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
		again := d.Find("connect", "a")[1]
		Expect(again["recovered"]).To(BeTrue())
		Expect(again["sid"]).To(Equal(first["sid"]))
		Eventually(func() []any {
			var got []any
			for _, r := range d.Events("a") {
				got = append(got, r["args"].([]any)[0])
			}
			return got
		}).Should(Equal([]any{0.0, 1.0, 2.0, 3.0}))
		Expect(srv.Socket.Of("/echo").Count()).To(Equal(1))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = ctx
	})
})

// counted counts connection-middleware and OnConnect runs.
type counted struct{ rec *recorder }

func (c counted) Register(r *socketservice.Router) {
	r.Namespace("/counted")
	r.UseConnect(socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		c.rec.add("middleware")
		return nil
	}))
	r.OnConnect(func(ctx context.Context, s *socketservice.Socket) error {
		c.rec.add(fmt.Sprintf("OnConnect recovered=%t", s.Recovered()))
		return nil
	})
}

var _ = DescribeTable("connection middleware on a recovered connection",
	func(skip bool, want []string) {
		leakCheck()
		rec := &recorder{}
		srv := sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() counted { return counted{rec: rec} }),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute, SkipMiddlewares: skip}
				return c
			}),
		)
		d := startNode()
		nodeConnect(d, "a", srv.URL+"/counted", map[string]any{"transports": []string{"websocket"}})
		Expect(srv.Socket.Of("/counted").Emit("offset", 1)).To(Succeed())
		Eventually(func() int { return len(d.Events("a")) }).Should(Equal(1))
		d.Send(map[string]any{"op": "drop", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "a") }).Should(HaveLen(1))
		d.Send(map[string]any{"op": "connectagain", "id": "a"})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(2))
		Expect(d.Find("connect", "a")[1]["recovered"]).To(BeTrue())
		Expect(rec.get()).To(Equal(want))
	},
	Entry("is skipped with SkipMiddlewares", true,
		[]string{"middleware", "OnConnect recovered=false", "OnConnect recovered=true"}),
	Entry("runs again without it", false,
		[]string{"middleware", "OnConnect recovered=false", "middleware", "OnConnect recovered=true"}),
)
