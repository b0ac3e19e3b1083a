package session_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/socketfx/socketfx/pkg/session"
)

func BenchmarkSession(b *testing.B) {
	s := session.New("sid")
	b.Run("Set", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.Set("name", "ann")
		}
	})
	b.Run("Get", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_, _, _ = session.Get[string](s, "name")
		}
	})
	b.Run("Update", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = session.Update(s, func(c *chatState) { c.Count++ })
		}
	})
	b.Run("Get-after-recovery", func(b *testing.B) {
		snap, _ := s.Snapshot()
		r := session.Restore("sid", snap)
		for i := 0; i < b.N; i++ {
			_, _, _ = session.Get[string](r, "name")
		}
	})
}

func BenchmarkMemoryStore(b *testing.B) {
	st := session.NewMemoryStore()
	ctx := context.Background()
	rec := session.Record{SocketID: "sid", Namespace: "/chat", Rooms: []string{"a"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.ID = strconv.Itoa(i)
		_ = st.Save(ctx, rec, time.Minute)
		_, _, _ = st.Take(ctx, rec.ID)
	}
}
