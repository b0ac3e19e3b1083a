package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/metrics"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
	"go.uber.org/goleak"
)

// shop is the service the specs drive: an echo, a handler that fails and
// one behind a guard.
type shop struct{}

type item struct {
	Name string `json:"name" validate:"required"`
}

func (shop) Register(r *socketservice.Router) {
	r.Namespace("/shop/{id}")
	r.Handle("echo", socketservice.Typed(func(_ context.Context, in item) (item, error) { return in, nil }))
	r.Handle("fail", socketservice.Typed0(func(context.Context) (any, error) {
		return nil, socketservice.Errorf("SOLD_OUT", "sold out")
	}))
	r.Handle("guarded", socketservice.Typed0(func(context.Context) (any, error) { return "in", nil }),
		socketservice.WithMiddleware(func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
			return func(ctx context.Context, m *socketservice.Message) (any, error) {
				return nil, socketservice.Errorf(socketservice.CodeForbidden, "staff only")
			}
		}))
}

// app runs the socket server with metrics.Module on a free port and
// returns its base URL.
func app(ctx context.Context) string {
	var srv *socketservice.Server
	a := fx.New(
		fx.NopLogger,
		socketservice.Module,
		metrics.Module,
		fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
		socketservice.AsService(func() shop { return shop{} }),
		fx.Populate(&srv),
	)
	Expect(a.Err()).NotTo(HaveOccurred())
	Expect(a.Start(ctx)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(a.Stop(ctx)).To(Succeed()) })
	return "http://" + srv.Addr()
}

// scrape GETs /metrics and parses it.
func scrape(base string) map[string]*dto.MetricFamily {
	res, err := http.Get(base + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	Expect(res.StatusCode).To(Equal(http.StatusOK))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return fams
}

// value is the value of the series of family name with exactly labels
// (name=value pairs); -1 when there is none. Histograms give their count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if want[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// series counts the series of every socketfx_ family.
func series(fams map[string]*dto.MetricFamily) int {
	n := 0
	for name, f := range fams {
		if strings.HasPrefix(name, "socketfx_") {
			n += len(f.GetMetric())
		}
	}
	return n
}

var _ = Describe("metrics", func() {
	var d *nodeclient.Driver
	BeforeEach(func() {
		opts := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(opts...) }).Should(Succeed()) })
		var err error
		d, err = nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
	})

	It("moves the connection gauge, the event counters and the handler histogram with the official client's traffic", func(ctx SpecContext) {
		base := app(ctx)
		m := func(name string, labels ...string) func() float64 {
			return func() float64 { return value(scrape(base), name, labels...) }
		}
		Expect(m("socketfx_connections", "transport", "websocket")()).To(BeZero())
		Expect(m("socketfx_build_info")()).To(BeNumerically("==", -1), "build_info has labels")
		Expect(scrape(base)).To(HaveKey("socketfx_build_info"))
		Expect(scrape(base)).To(HaveKey("go_goroutines"))
		Expect(scrape(base)).To(HaveKey("process_resident_memory_bytes"))

		d.Send(map[string]any{"op": "connect", "id": "a", "url": base + "/shop/7", "opts": map[string]any{"transports": []string{"websocket"}}})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(1))
		Eventually(m("socketfx_connections", "transport", "websocket")).Should(BeNumerically("==", 1))
		Eventually(m("socketfx_sockets", "namespace", "/shop/{id}")).Should(BeNumerically("==", 1), "a route's children count under the route")
		Expect(m("socketfx_connects_total", "namespace", "/shop/{id}", "recovered", "false")()).To(BeNumerically("==", 1))

		for i := 1; i <= 3; i++ {
			d.Send(map[string]any{"op": "emit", "id": "a", "event": "echo", "args": []any{map[string]any{"name": "tea"}}, "ack": true, "seq": i})
		}
		d.Send(map[string]any{"op": "emit", "id": "a", "event": "echo", "args": []any{map[string]any{}}, "ack": true, "seq": 4})
		d.Send(map[string]any{"op": "emit", "id": "a", "event": "fail", "ack": true, "seq": 5})
		d.Send(map[string]any{"op": "emit", "id": "a", "event": "guarded", "ack": true, "seq": 6})
		Eventually(func() []nodeclient.Report { return d.Find("ack", "a") }).Should(HaveLen(6))

		fams := scrape(base)
		ns := []string{"namespace", "/shop/{id}"}
		with := func(extra ...string) []string { return append(append([]string(nil), ns...), extra...) }
		Expect(value(fams, "socketfx_events_received_total", with("event", "echo")...)).To(BeNumerically("==", 4))
		Expect(value(fams, "socketfx_handler_duration_seconds", with("event", "echo", "outcome", "ok")...)).To(BeNumerically("==", 3))
		Expect(value(fams, "socketfx_handler_duration_seconds", with("event", "echo", "outcome", "rejected")...)).To(BeNumerically("==", 1), "validation rejects before the handler")
		Expect(value(fams, "socketfx_middleware_rejections_total", with("event", "echo", "code", "VALIDATION_PAYLOAD_ERROR")...)).To(BeNumerically("==", 1))
		Expect(value(fams, "socketfx_handler_errors_total", with("event", "fail", "code", "SOLD_OUT")...)).To(BeNumerically("==", 1))
		Expect(value(fams, "socketfx_middleware_rejections_total", with("event", "guarded", "code", "FORBIDDEN")...)).To(BeNumerically("==", 1))
		Expect(value(fams, "socketfx_handlers_in_flight", with("event", "echo")...)).To(BeZero())
		Expect(value(fams, "socketfx_packets_received_total", "transport", "websocket")).To(BeNumerically(">=", 6))
		Expect(value(fams, "socketfx_sent_bytes_total", "transport", "websocket")).To(BeNumerically(">", 0))

		d.Send(map[string]any{"op": "disconnect", "id": "a"})
		Eventually(m("socketfx_sockets", "namespace", "/shop/{id}")).Should(BeZero())
		Eventually(m("socketfx_disconnects_total", "namespace", "/shop/{id}", "reason", "client namespace disconnect")).Should(BeNumerically("==", 1))
		Eventually(m("socketfx_connections", "transport", "websocket")).Should(BeZero())
	})

	It("adds no series for 1,000 distinct unknown event names from a client", func(ctx SpecContext) {
		base := app(ctx)
		d.Send(map[string]any{"op": "connect", "id": "a", "url": base + "/shop/1", "opts": map[string]any{"transports": []string{"websocket"}}})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a") }).Should(HaveLen(1))
		d.Send(map[string]any{"op": "emit", "id": "a", "event": "warmup", "ack": true, "seq": 0})
		Eventually(func() []nodeclient.Report { return d.Find("ack", "a") }).Should(HaveLen(1))
		before := series(scrape(base))

		for i := 1; i <= 1000; i++ {
			d.Send(map[string]any{"op": "emit", "id": "a", "event": fmt.Sprintf("probe-%d", i), "ack": i == 1000, "seq": i})
		}
		Eventually(func() []nodeclient.Report { return d.Find("ack", "a") }).Should(HaveLen(2))
		fams := scrape(base)
		Expect(value(fams, "socketfx_events_received_total", "namespace", "/shop/{id}", "event", metrics.UnknownEvent)).To(BeNumerically("==", 1001))
		Expect(series(fams)).To(Equal(before))
	})
})
