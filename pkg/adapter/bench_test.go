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
	"go.uber.org/fx"
)

// The benchmarks' targets, each run in the same invocation: "one-node"
// emits on a server with no cluster; "cross-node" emits on node 0 to a
// client on node 1 through Redis; "cross-node-recovery" also adds each
// broadcast to the namespace's Redis stream first (one more round trip)
// to get its offset.
func eachTarget(b *testing.B, run func(b *testing.B, ns socketservice.Namespace, at *sockettest.Server)) {
	b.Run("one-node", func(b *testing.B) {
		srv := sockettest.NewServer(b, socketservice.AsService(func() *room { return &room{} }))
		run(b, srv.Socket.Of("/room"), srv)
	})
	cluster := func(name string, opts ...fx.Option) {
		b.Run(name, func(b *testing.B) {
			c := clustertest.StartOn(b, redistest.Start(b), 2, append([]fx.Option{socketservice.AsService(newRoom)}, opts...)...)
			c.Ready("/room", 10*time.Second)
			run(b, c.Node(0).Socket.Of("/room"), c.Node(1).Server)
		})
	}
	cluster("cross-node")
	cluster("cross-node-recovery", adapter.Sessions, withRecovery(time.Minute))
}

// Broadcast latency: emit on a namespace handle → received by a client,
// reported as p50/p99 besides ns/op (one emit and its receipt per op).
func BenchmarkBroadcastLatency(b *testing.B) { eachTarget(b, benchLatency) }

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

// Broadcast throughput: b.N emits in a row, then wait until the client
// received them all; ns/op is per broadcast.
func BenchmarkBroadcastThroughput(b *testing.B) { eachTarget(b, benchThroughput) }

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
