package session_test

import (
	"context"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/session/storetest"
)

type chatState struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
	Count int      `json:"count"`
}

var _ = Describe("Session", func() {
	It("gives typed values back, before and after a round trip through a store", func() {
		s := session.New("sid")
		s.Set("name", "ann")
		s.Set("age", 41)
		Expect(session.Update(s, func(st *chatState) { st.Name = "ann"; st.Rooms = []string{"go"} })).To(Succeed())

		check := func(s *session.Session) {
			name, ok, err := session.Get[string](s, "name")
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(BeTrue())
			Expect(name).To(Equal("ann"))
			age, _, err := session.Get[int](s, "age")
			Expect(err).NotTo(HaveOccurred())
			Expect(age).To(Equal(41))
			st, err := session.Load[chatState](s)
			Expect(err).NotTo(HaveOccurred())
			Expect(st).To(Equal(chatState{Name: "ann", Rooms: []string{"go"}}))
			_, ok, err = session.Get[string](s, "missing")
			Expect(ok).To(BeFalse())
			Expect(err).NotTo(HaveOccurred())
		}
		check(s)
		snap, err := s.Snapshot()
		Expect(err).NotTo(HaveOccurred())
		restored := session.Restore("sid", snap)
		check(restored)
		Expect(restored.Keys()).To(Equal(s.Keys()))

		_, _, err = session.Get[int](restored, "name")
		Expect(err).To(MatchError(ContainSubstring(`value "name"`)), "a wrong type is an error naming the key")
	})

	It("refuses to snapshot a value JSON cannot hold, naming it", func() {
		s := session.New("sid")
		s.Set("fn", func() {})
		_, err := s.Snapshot()
		Expect(err).To(MatchError(ContainSubstring(`value "fn" cannot be stored`)))
	})

	It("keeps every concurrent Update", func() {
		s := session.New("sid")
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = session.Update(s, func(st *chatState) { st.Count++ })
				s.Set("last", i)
				_, _ = s.Value("last")
			}()
		}
		wg.Wait()
		st, err := session.Load[chatState](s)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Count).To(Equal(100))
	})

	It("travels in a context", func() {
		s := session.New("sid")
		got, ok := session.FromContext(session.NewContext(context.Background(), s))
		Expect(ok).To(BeTrue())
		Expect(got).To(BeIdenticalTo(s))
		_, ok = session.FromContext(context.Background())
		Expect(ok).To(BeFalse())
	})
})

var _ = Describe("MemoryStore", func() {
	storetest.Specs(func() session.Store { return session.NewMemoryStore() })
})
