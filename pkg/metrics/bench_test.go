package metrics_test

import (
	"testing"
	"time"

	"github.com/socketfx/socketfx/pkg/metrics"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// BenchmarkPerEvent is what the metrics add to one echo with ack: the
// event's three handler calls and the two packets (the event in, the ack
// out). Compare it with BenchmarkEchoAck/socketfx+metrics in
// pkg/socketservice (docs/benchmarks.md).
func BenchmarkPerEvent(b *testing.B) {
	m, err := metrics.New()
	if err != nil {
		b.Fatal(err)
	}
	h := m.Events("/chat", "say")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.PacketIn("websocket", 32)
			h.Received()
			h.Started()
			h.Finished(socketservice.OutcomeOK, "", 20*time.Microsecond)
			m.PacketOut("websocket", 40)
		}
	})
}
