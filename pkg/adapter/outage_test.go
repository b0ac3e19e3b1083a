package adapter_test

import (
	"context"
	"io"
	"net/http"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/health"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// cpuTime is the CPU this test process used so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	Expect(syscall.Getrusage(syscall.RUSAGE_SELF, &ru)).To(Succeed())
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var _ = Describe("a Redis outage", func() {
	It("keeps local traffic going, fails cross-node operations fast, stays idle, and recovers", func() {
		leakCheck()
		c := clustertest.Start(GinkgoT(), 2, socketservice.AsService(newRoom), health.Module)
		c.Ready("/room", 10*time.Second)
		readyz := func() (int, string) {
			res, err := c.Node(0).Request(context.Background(), "GET", "/readyz?verbose", nil)
			Expect(err).NotTo(HaveOccurred())
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		code, body := readyz()
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"status":"ok","checks":[{"name":"redis","status":"ok"}`))
		a, b := connect(c, 0), connect(c, 0)
		remote := connect(c, 1)
		ns0 := c.Node(0).Socket.Of("/room")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		By("stopping Redis during traffic")
		Expect(ns0.Emit("before")).To(Succeed())
		Eventually(remote).Should(sockettest.ReceiveEvent("before"))
		c.Redis.Stop()
		for _, n := range c.Nodes {
			Eventually(n.Adapter.Health).Should(MatchError(adapter.ErrUnavailable), "health reports the node degraded")
		}
		code, body = readyz()
		Expect(code).To(Equal(http.StatusOK), "a node without Redis still serves its clients: ready, degraded")
		Expect(body).To(And(ContainSubstring(`"status":"degraded"`), ContainSubstring(`{"name":"redis","status":"degraded"`)))

		By("serving local clients and local broadcasts as usual")
		var pong string
		Expect(a.Call(ctx, "ping", nil, &pong)).To(Succeed())
		Expect(pong).To(Equal("pong"))
		Expect(ns0.Emit("local")).To(Succeed())
		Eventually(a).Should(sockettest.ReceiveEvent("local"))
		Eventually(b).Should(sockettest.ReceiveEvent("local"))
		b.HandleAck("vote", func([]any) []any { return []any{"b"} })
		a.HandleAck("vote", func([]any) []any { return []any{"a"} })
		ackCtx, ackCancel := context.WithTimeout(ctx, 500*time.Millisecond)
		replies, _ := ns0.EmitWithAck(ackCtx, "vote")
		ackCancel()
		Expect(replies).To(ConsistOf([]any{"a"}, []any{"b"}), "local clients still answer; the call ends by its deadline")

		By("failing cross-node operations at once")
		start := time.Now()
		_, err := ns0.FetchSockets(ctx)
		Expect(err).To(MatchError(adapter.ErrUnavailable))
		Expect(ns0.ServerSideEmit("note", "lost")).To(MatchError(adapter.ErrUnavailable))
		_, err = ns0.ServerSideEmitWithAck(ctx, "whoami")
		Expect(err).To(MatchError(adapter.ErrUnavailable))
		Expect(time.Since(start)).To(BeNumerically("<", time.Second))

		By("using almost no CPU while Redis is away")
		cpu0, wall0 := cpuTime(), time.Now()
		Eventually(func() time.Duration { return time.Since(wall0) }).WithPolling(100 * time.Millisecond).
			Should(BeNumerically(">=", 3*time.Second))
		used := float64(cpuTime()-cpu0) / float64(time.Since(wall0))
		GinkgoWriter.Printf("CPU while Redis was down: %.1f%% of a core (two nodes, three clients, -race)\n", 100*used)
		Expect(used).To(BeNumerically("<", 0.05))

		By("resuming cross-node traffic once Redis returns")
		Expect(c.Redis.Restart()).To(Succeed())
		for _, n := range c.Nodes {
			Eventually(n.Adapter.Health).Should(Succeed())
		}
		c.Ready("/room", 10*time.Second)
		code, body = readyz()
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"status":"ok"`))
		Expect(ns0.Emit("after")).To(Succeed())
		Eventually(remote).Should(sockettest.ReceiveEvent("after"))
		all, err := ns0.FetchSockets(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(HaveLen(3))
		Expect(c.Node(0).Adapter.Dropped()).To(BeNumerically(">", 0), "what could not be sent was counted")
	})
})
