package redistest_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"go.uber.org/goleak"
)

var _ = Describe("a test Redis", func() {
	It("serves go-redis, goes away on Stop and comes back empty on Restart", func() {
		before := goleak.IgnoreCurrent()
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		r := redistest.Start(GinkgoT())
		Expect(r.URL()).To(Equal("redis://" + r.Addr()))
		opts, err := redis.ParseURL(r.URL())
		Expect(err).NotTo(HaveOccurred())
		opts.MaxRetries = -1
		client := redis.NewClient(opts)
		defer client.Close()
		Expect(client.Set(ctx, "k", "v", 0).Err()).To(Succeed())
		Expect(client.Get(ctx, "k").Val()).To(Equal("v"))

		r.Stop()
		Expect(r.Running()).To(BeFalse())
		Expect(client.Ping(ctx).Err()).To(HaveOccurred(), "the outage is real")

		Expect(r.Restart()).To(Succeed())
		Eventually(func() error { return client.Ping(ctx).Err() }).Should(Succeed())
		Expect(client.Exists(ctx, "k").Val()).To(BeZero(), "no persistence")

		r.Kill()
		Expect(client.Ping(ctx).Err()).To(HaveOccurred())
		Expect(r.Restart()).To(Succeed())
		Expect(r.Restart()).To(MatchError(ContainSubstring("running")))
	})

	It("runs many at once, each on its own port", func() {
		a, b := redistest.Start(GinkgoT()), redistest.Start(GinkgoT())
		Expect(a.Addr()).NotTo(Equal(b.Addr()))
	})
})
