package redisrate_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/middleware/redisrate"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/goleak"
)

func TestRedisrate(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(5 * time.Second)
	RunSpecs(t, "redisrate")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// counter lets each user send 5 "tick"s, then one every 10 s, cluster-wide.
type counter struct{ mw socketservice.Middleware }

func (c counter) Register(r *socketservice.Router) {
	r.Namespace("/count")
	r.UseConnect(socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		name, _ := s.Handshake().Auth["name"].(string)
		s.SetIdentity(socketservice.Identity{Subject: name})
		return nil
	}))
	r.Handle("tick", socketservice.Typed0(func(context.Context) (string, error) { return "ok", nil }),
		socketservice.WithMiddleware(c.mw), socketservice.WithErrors(socketservice.CodeRateLimited))
}

var _ = Describe("a rate limit shared by the cluster", func() {
	var (
		c    *clustertest.Cluster
		logs *syncBuffer
	)
	BeforeEach(func() {
		before := goleak.IgnoreCurrent()
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
		logs = &syncBuffer{}
		log := slog.New(slog.NewTextHandler(logs, nil))
		var clients []*redis.Client
		DeferCleanup(func() {
			for _, cl := range clients {
				_ = cl.Close()
			}
		})
		r := redistest.Start(GinkgoT())
		c = clustertest.StartOn(GinkgoT(), r, 2, socketservice.AsService(func() (counter, error) {
			cl := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
			clients = append(clients, cl)
			mw, err := redisrate.New(redisrate.Config{Client: cl, Rate: 0.1, Burst: 5, Logger: log})
			return counter{mw}, err
		}))
		c.Ready("/count", 10*time.Second)
	})

	tick := func(cl *sockettest.Client) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.Call(ctx, "tick", nil, nil)
	}
	connect := func(node int, name string) *sockettest.Client {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl, err := c.Connect(ctx, node, "/count", sockettest.WithAuth(map[string]any{"name": name}))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(cl.Close)
		return cl
	}

	It("spends one budget per user across nodes, and says when to retry", func() {
		a, b := connect(0, "ann"), connect(1, "ann")
		for i := 0; i < 5; i++ {
			Expect(tick([]*sockettest.Client{a, b}[i%2])).To(Succeed(), "event %d of the burst", i)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ack, err := b.EmitWithAck(ctx, "tick")
		Expect(err).NotTo(HaveOccurred())
		Expect(ack).To(HaveExactElements(HaveKeyWithValue("error", SatisfyAll(
			HaveKeyWithValue("code", "RATE_LIMITED"),
			HaveKeyWithValue("message", "too many events, slow down"),
			HaveKeyWithValue("retryAfterMs", BeNumerically("~", 10000, 300))))))
		Expect(tick(a)).To(MatchError(ContainSubstring("RATE_LIMITED")), "the other node knows")
		Expect(tick(connect(1, "bob"))).To(Succeed(), "another user has a budget of its own")
	})

	It("limits each node on its own while Redis is away, says so once, and shares again when it is back", func() {
		a, b := connect(0, "ann"), connect(1, "ann")
		c.Redis.Stop()
		for i := 0; i < 5; i++ {
			Expect(tick(a)).To(Succeed())
			Expect(tick(b)).To(Succeed(), "node 1 has its own budget while Redis is away")
		}
		Expect(tick(a)).To(MatchError(ContainSubstring("RATE_LIMITED")))
		Expect(tick(b)).To(MatchError(ContainSubstring("RATE_LIMITED")))
		Expect(logs.String()).To(ContainSubstring("redisrate: Redis is away; each node limits on its own"))
		Expect(bytes.Count([]byte(logs.String()), []byte("Redis is away"))).To(Equal(2), "once per node")

		Expect(c.Redis.Restart()).To(Succeed())
		Eventually(func() error { return tick(connect(0, "cy")) }).Should(Succeed())
		Eventually(logs.String).Should(ContainSubstring("Redis is back"))
	})
})
