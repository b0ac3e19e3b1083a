package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/session"
)

// Specs declares the conformance specs; newStore is called once per spec.
func Specs(newStore func() session.Store) {
	var (
		store session.Store
		ctx   context.Context
	)
	BeforeEach(func() {
		store = newStore()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		DeferCleanup(cancel)
	})
	record := func(id string) session.Record {
		return session.Record{
			ID: id, SocketID: "sid-" + id, Namespace: "/chat", Rooms: []string{"sid-" + id, "lobby"},
			Values:         map[string]json.RawMessage{"name": json.RawMessage(`"ann"`), "n": json.RawMessage(`3`)},
			ConnectedAt:    time.UnixMilli(1_700_000_000_000).UTC(),
			DisconnectedAt: time.UnixMilli(1_700_000_001_000).UTC(),
		}
	}
	waitPast := func(d time.Duration) {
		deadline := time.Now().Add(d)
		Eventually(func() bool { return time.Now().After(deadline) }).WithPolling(5 * time.Millisecond).Should(BeTrue())
	}

	It("gives a saved record back once, whole", func() {
		Expect(store.Save(ctx, record("a"), time.Minute)).To(Succeed())
		got, ok, err := store.Take(ctx, "a")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
		Expect(got.ID).To(Equal("a"))
		Expect(got.SocketID).To(Equal("sid-a"))
		Expect(got.Namespace).To(Equal("/chat"))
		Expect(got.Rooms).To(Equal([]string{"sid-a", "lobby"}))
		Expect(got.Values).To(HaveLen(2))
		Expect(string(got.Values["name"])).To(MatchJSON(`"ann"`))
		Expect(got.ConnectedAt.Equal(record("a").ConnectedAt)).To(BeTrue())
		Expect(got.DisconnectedAt.Equal(record("a").DisconnectedAt)).To(BeTrue())
		_, ok, err = store.Take(ctx, "a")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse(), "a record is taken once")
	})

	It("knows nothing of an unknown id, and forgets a deleted record", func() {
		_, ok, err := store.Take(ctx, "nobody")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(store.Save(ctx, record("b"), time.Minute)).To(Succeed())
		Expect(store.Delete(ctx, "b")).To(Succeed())
		_, ok, err = store.Take(ctx, "b")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(store.Expired(ctx, time.Now().Add(time.Hour))).To(BeEmpty(), "a deleted record never expires")
	})

	It("does not give a record back after its ttl, and reports it expired once", func() {
		Expect(store.Save(ctx, record("c"), 50*time.Millisecond)).To(Succeed())
		Expect(store.Save(ctx, record("d"), time.Minute)).To(Succeed())
		Expect(store.Expired(ctx, time.Now())).To(BeEmpty(), "nothing is due yet")
		waitPast(60 * time.Millisecond)
		_, ok, err := store.Take(ctx, "c")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse(), "too late to recover")
		expired, err := store.Expired(ctx, time.Now())
		Expect(err).NotTo(HaveOccurred())
		Expect(expired).To(HaveLen(1))
		Expect(expired[0].ID).To(Equal("c"))
		Expect(expired[0].Values).To(HaveKey("name"), "the hook sees the session's values")
		Expect(store.Expired(ctx, time.Now())).To(BeEmpty(), "reported once")
		_, ok, err = store.Take(ctx, "d")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue(), "records not due are untouched")
	})

	It("lets one of many concurrent takers have a record", func() {
		Expect(store.Save(ctx, record("e"), time.Minute)).To(Succeed())
		var got atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				_, ok, err := store.Take(ctx, "e")
				Expect(err).NotTo(HaveOccurred())
				if ok {
					got.Add(1)
				}
			}()
		}
		wg.Wait()
		Expect(got.Load()).To(Equal(int32(1)))
	})

	It("reports an expired record to one of many concurrent sweepers", func() {
		for _, id := range []string{"f", "g", "h"} {
			Expect(store.Save(ctx, record(id), 10*time.Millisecond)).To(Succeed())
		}
		waitPast(20 * time.Millisecond)
		var mu sync.Mutex
		var seen []string
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				recs, err := store.Expired(ctx, time.Now())
				Expect(err).NotTo(HaveOccurred())
				mu.Lock()
				for _, r := range recs {
					seen = append(seen, r.ID)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		Expect(seen).To(ConsistOf("f", "g", "h"))
	})
}
