package socketservice_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketfx/socketfx/internal/engine/bare"
	"github.com/socketfx/socketfx/pkg/metrics"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// Echo-with-ack round trips over loopback websocket, measured in the same
// run for a socketfx typed handler and a bare zishang520 handler (both in
// internal/bare). Both use the same Go client. See docs/benchmarks.md.
//
//	make bench   (go test -run '^$' -bench . -benchmem -count 5 ./pkg/socketservice/)

func socketfxURL(b *testing.B, opts ...socketservice.ServerOption) string {
	srv, err := bare.StartSocketfx(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv.URL
}

func bareURL(b *testing.B) string {
	srv, err := bare.StartEngine()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv.URL
}

// dial connects, retrying: the bare engine loses a CONNECT that arrives
// before it attached the socket.io layer (socketfx works around that race;
// see docs/engine.md), and the benchmark measures round trips, not dials.
func dial(b *testing.B, url string) *sockettest.Client {
	var err error
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, e := sockettest.Connect(ctx, url, "/")
		cancel()
		if e == nil {
			return c
		}
		err = e
	}
	b.Fatal(err)
	return nil
}

func roundTrips(b *testing.B, url string) {
	c := dial(b, url)
	defer c.Close()
	in := bare.Payload{Text: "hello", N: 1}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.EmitWithAck(ctx, "echo", in); err != nil {
			b.Fatal(err)
		}
	}
}

func parallelRoundTrips(b *testing.B, url string) {
	var clients []*sockettest.Client
	for i := 0; i < 8; i++ {
		c := dial(b, url)
		defer c.Close()
		clients = append(clients, c)
	}
	var next atomic.Int64
	in := bare.Payload{Text: "hello", N: 1}
	b.ReportAllocs()
	b.SetParallelism(4) // 8 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := clients[int(next.Add(1)-1)%len(clients)]
		for pb.Next() {
			if _, err := c.EmitWithAck(context.Background(), "echo", in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkEchoAck(b *testing.B) {
	b.Run("socketfx", func(b *testing.B) { roundTrips(b, socketfxURL(b)) })
	b.Run("socketfx+metrics", func(b *testing.B) { roundTrips(b, socketfxURL(b, withMetrics(b))) })
	b.Run("bare", func(b *testing.B) { roundTrips(b, bareURL(b)) })
}

// withMetrics observes the server with pkg/metrics, as metrics.Module does.
func withMetrics(b *testing.B) socketservice.ServerOption {
	m, err := metrics.New()
	if err != nil {
		b.Fatal(err)
	}
	return socketservice.WithObservers(m)
}

func BenchmarkEchoAckParallel(b *testing.B) {
	b.Run("socketfx", func(b *testing.B) { parallelRoundTrips(b, socketfxURL(b)) })
	b.Run("socketfx+metrics", func(b *testing.B) { parallelRoundTrips(b, socketfxURL(b, withMetrics(b))) })
	b.Run("bare", func(b *testing.B) { parallelRoundTrips(b, bareURL(b)) })
}
