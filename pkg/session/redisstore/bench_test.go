package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/session/redisstore"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
)

// One Save and one Take per op, against a real redis-server on loopback.
func BenchmarkRedisStore(b *testing.B) {
	r := redistest.Start(b)
	client := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer client.Close()
	st := redisstore.New(client)
	ctx := context.Background()
	rec := session.Record{SocketID: "sid", Namespace: "/chat", Rooms: []string{"a"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.ID = strconv.Itoa(i)
		if err := st.Save(ctx, rec, time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, ok, err := st.Take(ctx, rec.ID); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
