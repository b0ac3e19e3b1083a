package adapter_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// Broadcast latency: emit on one node's namespace handle → received by a
// client. "cross-node" emits on node 0 to a client on node 1 through
// Redis; "one-node" is the same on a server with no cluster. Reported as
// p50/p99 besides ns/op (one emit and its receipt per op).
func BenchmarkBroadcastLatency(b *testing.B) {
	b.Run("one-node", func(b *testing.B) {
		srv := sockettest.NewServer(b, socketservice.AsService(func() *room { return &room{} }))
		benchLatency(b, srv.Socket.Of("/room"), srv)
	})
	b.Run("cross-node", func(b *testing.B) {
		c := clustertest.StartOn(b, redistest.Start(b), 2, socketservice.AsService(newRoom))
		c.Ready("/room", 10*time.Second)
		benchLatency(b, c.Node(0).Socket.Of("/room"), c.Node(1).Server)
	})
	// With recovery, each broadcast is first added to the namespace's
	// Redis stream (one more round trip) to get its offset.
	b.Run("cross-node-recovery", func(b *testing.B) {
		c := clustertest.StartOn(b, redistest.Start(b), 2, socketservice.AsService(newRoom), adapter.Sessions, withRecovery(time.Minute))
		c.Ready("/room", 10*time.Second)
		benchLatency(b, c.Node(0).Socket.Of("/room"), c.Node(1).Server)
	})
}

// benchClient connects a client to /room on at for the benchmark.
func benchClient(b *testing.B, at *sockettest.Server) (context.Context, *sockettest.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b.Cleanup(cancel)
	cl, err := at.Connect(ctx, "/room")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return ctx, cl
}

func benchLatency(b *testing.B, ns socketservice.Namespace, at *sockettest.Server) {
	ctx, cl := benchClient(b, at)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := ns.Emit("tick", i); err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Next(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// Broadcast throughput: 1,000 emits in a row, then wait until the client
// received them all; ns/op is per broadcast.
func BenchmarkBroadcastThroughput(b *testing.B) {
	b.Run("one-node", func(b *testing.B) {
		srv := sockettest.NewServer(b, socketservice.AsService(func() *room { return &room{} }))
		benchThroughput(b, srv.Socket.Of("/room"), srv)
	})
	b.Run("cross-node", func(b *testing.B) {
		c := clustertest.StartOn(b, redistest.Start(b), 2, socketservice.AsService(newRoom))
		c.Ready("/room", 10*time.Second)
		benchThroughput(b, c.Node(0).Socket.Of("/room"), c.Node(1).Server)
	})
}

func benchThroughput(b *testing.B, ns socketservice.Namespace, at *sockettest.Server) {
	ctx, cl := benchClient(b, at)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ns.Emit("tick", i); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		if _, err := cl.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
