package adapter_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"go.uber.org/fx"
)

// tally counts how often each client's request was handled, over every
// node (the nodes of a spec run in one process).
type tally struct {
	mu      sync.Mutex
	handled map[string]int // "client/seq" → times handled
}

func (t *tally) add(key string) {
	t.mu.Lock()
	t.handled[key]++
	t.mu.Unlock()
}

func (t *tally) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.handled))
	for k, v := range t.handled {
		out[k] = v
	}
	return out
}

type job struct {
	Client string `json:"client"`
	Seq    int    `json:"seq"`
}

// deploy is the service of the rolling-deploy spec: every socket is in
// room "all"; "work" is handled once per request and acks its seq.
type deploy struct{ t *tally }

func (d deploy) Register(r *socketservice.Router) {
	r.Namespace("/deploy")
	r.OnConnect(func(_ context.Context, s *socketservice.Socket) error {
		s.Join("all")
		return nil
	})
	r.Handle("work", socketservice.Typed(func(_ context.Context, in job) (int, error) {
		d.t.add(fmt.Sprintf("%s/%d", in.Client, in.Seq))
		return in.Seq, nil
	}))
}

// balancer is a load balancer in front of the nodes, as a Kubernetes
// Service is: each new connection goes to the next node whose readiness
// holds (websocket connections stay on their node).
func balancer(c *clustertest.Cluster) *httptest.Server {
	var next atomic.Uint64
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		nodes := c.Nodes
		for i := 0; i < len(nodes); i++ {
			n := nodes[next.Add(1)%uint64(len(nodes))]
			if n.Socket.Ready() == nil {
				u, _ := url.Parse(n.URL)
				pr.SetURL(u)
				return
			}
		}
		u, _ := url.Parse(nodes[0].URL) // none ready: the node refuses
		pr.SetURL(u)
	}}
	lb := httptest.NewServer(rp)
	DeferCleanup(lb.Close)
	return lb
}

// withRecoveryAndDrain is withRecovery and a drain delay (fx decorates a
// type once per scope).
func withRecoveryAndDrain(window, delay time.Duration) fx.Option {
	return fx.Decorate(func(c socketservice.Config) socketservice.Config {
		c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: window}
		c.DrainDelay = delay
		return c
	})
}

var _ = Describe("a rolling deploy", func() {
	BeforeEach(func() { leakCheck() })

	It("moves 50 clients from a stopping node to the other, recovered, without losing or repeating an ack or a broadcast", func(ctx SpecContext) {
		const clients = 50
		t := &tally{handled: map[string]int{}}
		c := clustertest.Start(GinkgoT(), 2,
			socketservice.AsService(func() deploy { return deploy{t} }),
			adapter.Sessions, withRecoveryAndDrain(time.Minute, 300*time.Millisecond))
		c.Ready("/deploy", 10*time.Second)
		lb := balancer(c)
		a, b := c.Node(0), c.Node(1)

		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		ids := make([]string, clients)
		for i := range ids {
			ids[i] = fmt.Sprintf("c%d", i)
			d.Send(map[string]any{"op": "connect", "id": ids[i], "url": lb.URL + "/deploy", "opts": map[string]any{
				"transports": []string{"websocket"}, "reconnection": true, "retries": 10,
				"reconnectionDelay": 50, "reconnectionDelayMax": 200, "randomizationFactor": 0,
			}})
		}
		for _, id := range ids {
			Eventually(func() []nodeclient.Report { return d.Find("connect", id) }).Should(HaveLen(1))
		}
		onA := a.Socket.Of("/deploy").Count()
		Expect(onA).To(BeNumerically(">=", clients/2-1), "the balancer spreads the clients")
		first := map[string]string{}
		for _, id := range ids {
			first[id] = d.Find("connect", id)[0]["sid"].(string)
		}

		By("pumping requests from every client, and broadcasting from the node that stays")
		for _, id := range ids {
			d.Send(map[string]any{"op": "pump", "id": id, "event": "work", "every": 5})
		}
		for _, id := range ids {
			Eventually(func() int { return len(d.Find("pumped", id)) }).Should(BeNumerically(">=", 3))
		}
		ticks := make(chan int, 1)
		stopTicks := make(chan struct{})
		var once sync.Once
		endTicks := func() { once.Do(func() { close(stopTicks) }) }
		DeferCleanup(endTicks)
		go func() {
			defer GinkgoRecover()
			n := 0
			tk := time.NewTicker(10 * time.Millisecond) // the broadcasts' pace, not a synchronisation
			defer tk.Stop()
			for {
				select {
				case <-stopTicks:
					ticks <- n
					return
				case <-tk.C:
					Expect(b.Socket.Of("/deploy").To("all").Emit("tick", n)).To(Succeed())
					n++
				}
			}
		}()

		By("stopping node A (as SIGTERM does)")
		stopped := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(stopped)
			a.Stop()
		}()
		Eventually(a.Socket.Ready).Should(MatchError(socketservice.ErrDraining), "readiness fails as soon as the stop begins")
		Eventually(stopped, 15*time.Second).Should(BeClosed())

		By("every client ends up on node B, recovered")
		Eventually(b.Socket.Of("/deploy").Count, 10*time.Second).Should(Equal(clients))
		Eventually(func() int { return connects(d) }).Should(Equal(clients + onA))
		moved := 0
		for _, id := range ids {
			conns := d.Find("connect", id)
			if len(conns) == 1 {
				continue
			}
			moved++
			Expect(conns).To(HaveLen(2), "client %s reconnected once", id)
			Expect(conns[1]["recovered"]).To(BeTrue(), "client %s recovered", id)
			Expect(conns[1]["sid"]).To(Equal(first[id]), "client %s kept its id", id)
		}
		Expect(moved).To(Equal(onA))
		// Requests go on after the move.
		after := map[string]int{}
		for _, id := range ids {
			after[id] = len(d.Find("pumped", id))
		}
		for _, id := range ids {
			Eventually(func() int { return len(d.Find("pumped", id)) }).Should(BeNumerically(">=", after[id]+3))
		}
		endTicks()
		sentTicks := <-ticks
		for _, id := range ids {
			d.Send(map[string]any{"op": "stoppump", "id": id})
		}
		for _, id := range ids {
			Eventually(func() []nodeclient.Report { return d.Find("stopped", id) }).Should(HaveLen(1))
		}

		By("every request was acked, and handled exactly once")
		handled := t.snapshot()
		acked := 0
		for _, id := range ids {
			sent := int(d.Find("stopped", id)[0]["sent"].(float64))
			pumped := d.Find("pumped", id)
			Expect(pumped).To(HaveLen(sent), "client %s got one answer per request", id)
			for i, p := range pumped {
				Expect(p["error"]).To(BeNil(), "client %s request %d", id, i+1)
				Expect(p["seq"]).To(BeNumerically("==", i+1))
				Expect(handled[fmt.Sprintf("%s/%d", id, i+1)]).To(Equal(1), "client %s request %d handled once", id, i+1)
				acked++
			}
		}
		Expect(handled).To(HaveLen(acked), "nothing was handled that was not acked")

		By("every broadcast reached every client once, in order")
		for _, id := range ids {
			Eventually(func() int { return countTicks(d, id) }).Should(Equal(sentTicks), func() string {
				var full []any
				for _, r := range d.Events(id) {
					if r["event"] == "tick" {
						full = append(full, r["args"])
					}
				}
				return fmt.Sprintf("client %s (connects %v): ticks %v", id, d.Find("connect", id), full)
			})
			got := tickArgs(d, id)
			for i, n := range got {
				Expect(n).To(BeNumerically("==", i), "client %s tick %d", id, i)
			}
		}
		AddReportEntry("rolling deploy", fmt.Sprintf("clients %d, moved %d, recovered %d, requests acked %d, acks lost 0, broadcasts %d to each",
			clients, moved, moved, acked, sentTicks))
	})
})

func tickArgs(d *nodeclient.Driver, id string) []any {
	var got []any
	for _, r := range d.Events(id) {
		if r["event"] == "tick" {
			got = append(got, r["args"].([]any)[0])
		}
	}
	return got
}

// connects counts the connect reports of every client.
func connects(d *nodeclient.Driver) int {
	n := 0
	for _, r := range d.Reports() {
		if r.Type() == "connect" {
			n++
		}
	}
	return n
}

func countTicks(d *nodeclient.Driver, id string) int { return len(tickArgs(d, id)) }
