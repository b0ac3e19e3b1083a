package redisstore_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/session/redisstore"
	"github.com/socketfx/socketfx/pkg/session/storetest"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"go.uber.org/goleak"
)

func TestRedisStore(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "redisstore")
}

var _ = Describe("redisstore on a real redis-server", func() {
	storetest.Specs(func() session.Store {
		before := goleak.IgnoreCurrent()
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
		r := redistest.Start(GinkgoT())
		client := redis.NewClient(&redis.Options{Addr: r.Addr()})
		DeferCleanup(client.Close)
		return redisstore.New(client)
	})
})
