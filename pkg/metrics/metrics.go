package metrics

import (
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Namespace is the prefix of every metric's name.
const Namespace = "socketfx"

// UnknownEvent is the event label of the events no handler serves.
const UnknownEvent = "(unknown)"

// DefaultBuckets are the handler and ack duration buckets, in seconds:
// 100 µs to about 6.5 s, by fours (socket handlers are often sub-millisecond,
// which prometheus.DefBuckets, from 5 ms, cannot tell apart).
var DefaultBuckets = []float64{0.0001, 0.0004, 0.0016, 0.0064, 0.0256, 0.1024, 0.4096, 1.6384, 6.5536}

// Registry is what Metrics registers on and serves from;
// *prometheus.Registry is one.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Option configures New.
type Option interface{ apply(*options) }

type options struct {
	reg     Registry
	buckets []float64
	runtime bool
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithRegistry registers the collectors on reg instead of a new registry
// (prometheus.DefaultRegisterer is a *prometheus.Registry:
// WithRegistry(prometheus.DefaultRegisterer.(*prometheus.Registry))).
func WithRegistry(reg Registry) Option {
	return optionFunc(func(o *options) {
		if reg != nil {
			o.reg = reg
		}
	})
}

// WithBuckets sets the buckets of the duration histograms, in seconds.
func WithBuckets(b ...float64) Option {
	return optionFunc(func(o *options) {
		if len(b) > 0 {
			o.buckets = b
		}
	})
}

// WithoutRuntimeCollectors leaves out the Go runtime and process
// collectors (for a registry that has them already).
func WithoutRuntimeCollectors() Option {
	return optionFunc(func(o *options) { o.runtime = false })
}

// Metrics is the Prometheus side of a server: a socketservice.Observer
// that counts what it sees, and a collector of the server's and the
// cluster's state at each scrape. Build it with New; under fx, Module does.
type Metrics struct {
	reg Registry

	mu   sync.RWMutex
	srvs *socketservice.Server // set by Attach

	connections *prometheus.GaugeVec
	upgrades    *prometheus.CounterVec
	packetsIn   *prometheus.CounterVec
	packetsOut  *prometheus.CounterVec
	bytesIn     *prometheus.CounterVec
	bytesOut    *prometheus.CounterVec
	wire        map[string]*wireSet // by transport, made at New

	sockets     *prometheus.GaugeVec
	connects    *prometheus.CounterVec
	rejections  *prometheus.CounterVec
	disconnects *prometheus.CounterVec
	recoveries  *prometheus.CounterVec

	received   *prometheus.CounterVec
	sent       *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	errors     *prometheus.CounterVec
	inflight   *prometheus.GaugeVec
	rejected   *prometheus.CounterVec
	ackWait    *prometheus.HistogramVec
	clusterReq *prometheus.HistogramVec
	storeOps   *prometheus.CounterVec
	storeErrs  *prometheus.CounterVec

	sentMu    sync.RWMutex
	sentCache map[[2]string]prometheus.Counter
}

var _ socketservice.Observer = (*Metrics)(nil)

// wireSet is one transport's counters, bound once so that the per-packet
// path does no label lookup.
type wireSet struct {
	conns                prometheus.Gauge
	pIn, pOut, bIn, bOut prometheus.Counter
}

// New builds the collectors and registers them (on a new registry unless
// WithRegistry gives one). Attach a server with Attach so that the
// cluster's state is collected too.
func New(opts ...Option) (*Metrics, error) {
	o := options{buckets: DefaultBuckets, runtime: true}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.reg == nil {
		o.reg = prometheus.NewRegistry()
	}
	m := &Metrics{reg: o.reg, sentCache: map[[2]string]prometheus.Counter{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: o.buckets}, labels)
	}
	m.connections = gauge("connections", "Open Engine.IO connections, by transport.", "transport")
	m.upgrades = counter("transport_upgrades_total", "Connections that upgraded their transport.", "from", "to")
	m.packetsIn = counter("packets_received_total", "Engine.IO packets received, by transport.", "transport")
	m.packetsOut = counter("packets_sent_total", "Engine.IO packets sent, by transport.", "transport")
	m.bytesIn = counter("received_bytes_total", "Payload bytes of the Engine.IO packets received, by transport.", "transport")
	m.bytesOut = counter("sent_bytes_total", "Payload bytes of the Engine.IO packets sent, by transport.", "transport")
	m.sockets = gauge("sockets", "Connected sockets, by namespace (a pattern's children under the pattern).", "namespace")
	m.connects = counter("connects_total", "Sockets accepted, by namespace; recovered is true for a connection-state recovery.", "namespace", "recovered")
	m.rejections = counter("connect_rejections_total", "Connections refused at the handshake, by namespace and error code.", "namespace", "code")
	m.disconnects = counter("disconnects_total", "Sockets that ended, by namespace and Socket.IO reason.", "namespace", "reason")
	m.recoveries = counter("recoveries_total", "Connection-state recovery attempts, by namespace and result (recovered, failed).", "namespace", "result")
	m.received = counter("events_received_total", "Client events received, by namespace and event (events no handler serves: \""+UnknownEvent+"\").", "namespace", "event")
	m.sent = counter("events_sent_total", "Events the server emitted (a broadcast counts once), by namespace and event.", "namespace", "event")
	m.duration = histogram("handler_duration_seconds", "Time from an event's start to its answer, middleware included, by namespace, event and outcome (ok, error, rejected, panic).", "namespace", "event", "outcome")
	m.errors = counter("handler_errors_total", "Errors returned by handlers, by namespace, event and code.", "namespace", "event", "code")
	m.inflight = gauge("handlers_in_flight", "Events being handled, by namespace and event.", "namespace", "event")
	m.rejected = counter("middleware_rejections_total", "Events middleware answered with an error before the handler ran, by namespace, event and code.", "namespace", "event", "code")
	m.ackWait = histogram("ack_wait_seconds", "Server-to-client acks (EmitWithAck): time waited, by namespace and outcome (ok, timeout, error).", "namespace", "outcome")
	m.clusterReq = histogram("cluster_request_duration_seconds", "Requests to the other nodes, by operation (fetch_sockets, server_side_emit, broadcast_ack) and outcome (ok, timeout, error).", "op", "outcome")
	m.storeOps = counter("session_store_operations_total", "Session store operations, by operation (save, take, delete, expired).", "op")
	m.storeErrs = counter("session_store_errors_total", "Session store operations that failed, by operation.", "op")

	m.wire = map[string]*wireSet{}
	for _, t := range []string{"polling", "websocket", "webtransport"} {
		m.wire[t] = m.newWireSet(t)
	}
	cs := []prometheus.Collector{
		m.connections, m.upgrades, m.packetsIn, m.packetsOut, m.bytesIn, m.bytesOut,
		m.sockets, m.connects, m.rejections, m.disconnects, m.recoveries,
		m.received, m.sent, m.duration, m.errors, m.inflight, m.rejected, m.ackWait, m.clusterReq,
		m.storeOps, m.storeErrs, buildInfo(),
		clusterCollector{m},
	}
	if o.runtime {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := o.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) newWireSet(t string) *wireSet {
	return &wireSet{
		conns: m.connections.WithLabelValues(t),
		pIn:   m.packetsIn.WithLabelValues(t), pOut: m.packetsOut.WithLabelValues(t),
		bIn: m.bytesIn.WithLabelValues(t), bOut: m.bytesOut.WithLabelValues(t),
	}
}

// Attach tells the metrics which server's cluster state to collect (at
// each scrape: nodes, Redis up, messages). Module does it.
func (m *Metrics) Attach(s *socketservice.Server) {
	m.mu.Lock()
	m.srvs = s
	m.mu.Unlock()
}

// Registry returns the registry the collectors are registered on.
func (m *Metrics) Registry() Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) wireOf(t string) *wireSet {
	if w, ok := m.wire[t]; ok {
		return w
	}
	return m.newWireSet(t) // a transport the engine added since
}

// ConnOpened implements socketservice.Observer.
func (m *Metrics) ConnOpened(t string) { m.wireOf(t).conns.Inc() }

// ConnUpgraded implements socketservice.Observer.
func (m *Metrics) ConnUpgraded(from, to string) {
	m.wireOf(from).conns.Dec()
	m.wireOf(to).conns.Inc()
	m.upgrades.WithLabelValues(from, to).Inc()
}

// ConnClosed implements socketservice.Observer.
func (m *Metrics) ConnClosed(t, _ string) { m.wireOf(t).conns.Dec() }

// PacketIn implements socketservice.Observer.
func (m *Metrics) PacketIn(t string, n int) {
	w := m.wireOf(t)
	w.pIn.Inc()
	w.bIn.Add(float64(n))
}

// PacketOut implements socketservice.Observer.
func (m *Metrics) PacketOut(t string, n int) {
	w := m.wireOf(t)
	w.pOut.Inc()
	w.bOut.Add(float64(n))
}

// SocketConnected implements socketservice.Observer.
func (m *Metrics) SocketConnected(ns string, recovered bool) {
	m.sockets.WithLabelValues(ns).Inc()
	r := "false"
	if recovered {
		r = "true"
	}
	m.connects.WithLabelValues(ns, r).Inc()
}

// SocketRejected implements socketservice.Observer.
func (m *Metrics) SocketRejected(ns string, code socketservice.Code) {
	m.rejections.WithLabelValues(ns, string(code)).Inc()
}

// SocketDisconnected implements socketservice.Observer.
func (m *Metrics) SocketDisconnected(ns, reason string) {
	m.sockets.WithLabelValues(ns).Dec()
	m.disconnects.WithLabelValues(ns, reason).Inc()
}

// RecoveryAttempted implements socketservice.Observer.
func (m *Metrics) RecoveryAttempted(ns string, recovered bool) {
	r := "failed"
	if recovered {
		r = "recovered"
	}
	m.recoveries.WithLabelValues(ns, r).Inc()
}

// Events implements socketservice.Observer: the handler's series, bound
// once.
func (m *Metrics) Events(ns, event string) socketservice.EventObserver {
	if event == "" {
		event = UnknownEvent
	}
	h := &handlerMetrics{
		received: m.received.WithLabelValues(ns, event),
		inflight: m.inflight.WithLabelValues(ns, event),
		errors:   m.errors.MustCurryWith(prometheus.Labels{"namespace": ns, "event": event}),
		rejected: m.rejected.MustCurryWith(prometheus.Labels{"namespace": ns, "event": event}),
	}
	for _, o := range []socketservice.Outcome{socketservice.OutcomeOK, socketservice.OutcomeError, socketservice.OutcomeRejected, socketservice.OutcomePanic} {
		h.duration[o] = m.duration.WithLabelValues(ns, event, o.String())
	}
	return h
}

// EventSent implements socketservice.Observer.
func (m *Metrics) EventSent(ns, event string) {
	key := [2]string{ns, event}
	m.sentMu.RLock()
	c, ok := m.sentCache[key]
	m.sentMu.RUnlock()
	if !ok {
		c = m.sent.WithLabelValues(ns, event)
		m.sentMu.Lock()
		m.sentCache[key] = c
		m.sentMu.Unlock()
	}
	c.Inc()
}

// AckWaited implements socketservice.Observer.
func (m *Metrics) AckWaited(ns, outcome string, d time.Duration) {
	m.ackWait.WithLabelValues(ns, outcome).Observe(d.Seconds())
}

// ClusterRequest implements socketservice.Observer.
func (m *Metrics) ClusterRequest(op, outcome string, d time.Duration) {
	m.clusterReq.WithLabelValues(op, outcome).Observe(d.Seconds())
}

// SessionStore implements socketservice.Observer.
func (m *Metrics) SessionStore(op string, err error) {
	m.storeOps.WithLabelValues(op).Inc()
	if err != nil {
		m.storeErrs.WithLabelValues(op).Inc()
	}
}

// handlerMetrics are one handler's series.
type handlerMetrics struct {
	received prometheus.Counter
	inflight prometheus.Gauge
	duration [4]prometheus.Observer // by socketservice.Outcome
	errors   *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

func (h *handlerMetrics) Received() { h.received.Inc() }
func (h *handlerMetrics) Started()  { h.inflight.Inc() }

func (h *handlerMetrics) Finished(o socketservice.Outcome, code socketservice.Code, d time.Duration) {
	h.inflight.Dec()
	if int(o) < len(h.duration) {
		h.duration[o].Observe(d.Seconds())
	}
	switch o {
	case socketservice.OutcomeError, socketservice.OutcomePanic:
		h.errors.WithLabelValues(string(code)).Inc()
	case socketservice.OutcomeRejected:
		h.rejected.WithLabelValues(string(code)).Inc()
	}
}

// clusterCollector reads the attached server's cluster state at each
// scrape.
type clusterCollector struct{ m *Metrics }

var (
	descUp       = prometheus.NewDesc(Namespace+"_cluster_up", "1 while the cluster's transport (Redis) works, 0 while it is away.", nil, nil)
	descNodes    = prometheus.NewDesc(Namespace+"_cluster_nodes", "Servers the cluster counts, this one included.", nil, nil)
	descDropped  = prometheus.NewDesc(Namespace+"_cluster_dropped_messages_total", "Messages for other nodes that were not sent (Redis away, queue full).", nil, nil)
	descSent     = prometheus.NewDesc(Namespace+"_cluster_messages_sent_total", "Messages published for other nodes.", nil, nil)
	descReceived = prometheus.NewDesc(Namespace+"_cluster_messages_received_total", "Messages from other nodes, by type.", []string{"type"}, nil)
)

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descNodes, descDropped, descSent, descReceived} {
		ch <- d
	}
}

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.RLock()
	s := c.m.srvs
	c.m.mu.RUnlock()
	if s == nil {
		return
	}
	st, ok := s.ClusterStats()
	if !ok {
		return
	}
	up := 0.0
	if st.Up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descNodes, prometheus.GaugeValue, float64(st.Nodes))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(st.Sent))
	for typ, n := range st.Received {
		ch <- prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(n), typ)
	}
}

// buildInfo is socketfx_build_info{version, goversion, engine} 1.
func buildInfo() prometheus.Collector {
	version, engine, goversion := "(devel)", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goversion = bi.GoVersion
		if bi.Main.Path == "github.com/socketfx/socketfx" {
			version = bi.Main.Version
		}
		for _, d := range bi.Deps {
			switch {
			case d.Path == "github.com/socketfx/socketfx":
				version = d.Version
			case strings.HasPrefix(d.Path, "github.com/zishang520/socket.io/servers/socket"):
				engine = d.Version
			}
		}
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info", Help: "1, labelled with the socketfx version, the Go version and the zishang520 engine version.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goversion, "engine": engine},
	}, func() float64 { return 1 })
}
