package socketservice_test

import (
	"context"
	"testing"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// The cost of connection-state recovery per emitted packet: a broadcast
// from a namespace handle received by one client, with recovery off and on
// (each eligible packet is stamped with an offset and kept in memory).
func BenchmarkRecoveryBroadcast(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			srv := sockettest.NewServer(b, socketservice.AsService(newEcho),
				fx.Decorate(func(c socketservice.Config) socketservice.Config {
					if on {
						c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
					}
					return c
				}))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cl, err := srv.Connect(ctx, "/echo")
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			ns := srv.Socket.Of("/echo")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := ns.Emit("tick", i); err != nil {
					b.Fatal(err)
				}
				if _, err := cl.Next(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
