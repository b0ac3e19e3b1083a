package adapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/internal/engine/cluster"
	"github.com/socketfx/socketfx/internal/engine/recovery"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Redis joins socketfx nodes (and Node socket.io servers using
// @socket.io/redis-adapter) through Redis pub/sub. It implements
// socketservice.Cluster; build it with New, or with Module under fx.
//
// Every namespace gets its own channels. A broadcast is delivered to the
// local sockets at once and published for the other nodes; a request that
// needs answers (FetchSockets, ServerSideEmitWithAck) waits for every node
// the heartbeats count, within Config.RequestTimeout; EmitWithAck waits for
// the clients' acks within its own timeout (the context's deadline, or
// socketservice.DefaultAckTimeout).
//
// While Redis is away, local clients and local broadcasts are served as
// usual; cross-node operations fail at once with ErrUnavailable (broadcasts
// to other nodes are dropped and logged), reconnection backs off up to
// 2 s, and everything resumes by itself when Redis returns.
type Redis struct {
	cfg       Config
	client    redis.UniversalClient
	ownClient bool
	log       *slog.Logger
	uid       string

	mu      sync.Mutex
	started bool
	closed  bool
	ps      *redis.PubSub
	nsps    map[string]*cluster.Namespace // by namespace name
	routes  map[string]route              // by channel or pattern

	out     chan outMsg
	stop    chan struct{}
	loops   sync.WaitGroup // receive, publish, heartbeat
	workers sync.WaitGroup // server event handlers

	subUp    atomic.Bool // the subscription connection works
	pubUp    atomic.Bool // the last publish worked
	lastErr  atomic.Pointer[errBox]
	lastWarn atomic.Int64
	dropped  atomic.Uint64
	sent     atomic.Uint64
	received [4]atomic.Uint64 // by cluster.Kind
}

type errBox struct{ err error }

type route struct {
	nsp  *cluster.Namespace
	kind cluster.Kind
}

type outMsg struct {
	channel string
	payload []byte
}

// New builds the adapter. It does not connect: Start does.
func New(cfg Config, opts ...Option) (*Redis, error) {
	r := &Redis{cfg: cfg.withDefaults(), log: slog.Default(), ownClient: true}
	for _, o := range opts {
		o.applyRedis(r)
	}
	if r.client == nil {
		if cfg.URL == "" {
			return nil, errors.New("adapter: no Redis: set Config.URL or use WithClient")
		}
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("adapter: Config.URL: %w", err)
		}
		o.Dialer = backoffDialer(o.DialTimeout)
		o.MaxRetries = 1
		o.ContextTimeoutEnabled = true
		r.client = redis.NewClient(o)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	r.uid = hex.EncodeToString(id[:])
	r.nsps = map[string]*cluster.Namespace{}
	r.routes = map[string]route{}
	r.out = make(chan outMsg, r.cfg.PublishQueue)
	r.stop = make(chan struct{})
	return r, nil
}

// Client is the go-redis client the adapter uses (its own, or the one
// given with WithClient).
func (r *Redis) Client() redis.UniversalClient { return r.client }

// UID is this node's id on the wire.
func (r *Redis) UID() string { return r.uid }

// Start connects to Redis (it fails when Redis cannot be reached within
// ctx, so that a wrong URL shows at once) and starts the adapter's loops.
func (r *Redis) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("adapter: Start called twice")
	}
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("adapter: cannot reach Redis: %w", err)
	}
	r.ps = r.client.Subscribe(ctx)
	r.started = true
	r.subUp.Store(true)
	r.pubUp.Store(true)
	r.loops.Add(3)
	go r.receiveLoop()
	go r.publishLoop()
	go r.heartbeatLoop()
	return nil
}

// Stop says goodbye for the namespaces still open, stops the loops and
// closes the connections (and the client, unless it came from WithClient).
func (r *Redis) Stop(ctx context.Context) error {
	r.mu.Lock()
	if !r.started || r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	nsps := make([]*cluster.Namespace, 0, len(r.nsps))
	for _, n := range r.nsps {
		nsps = append(nsps, n)
	}
	r.mu.Unlock()
	for _, n := range nsps {
		n.SayGoodbye(ctx)
	}
	for _, n := range nsps {
		n.FailPending(ErrClosed)
	}
	close(r.stop)
	err := r.ps.Close()
	r.loops.Wait()
	done := make(chan struct{})
	go func() { r.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("adapter: stop: server event handlers: %w", ctx.Err()))
	}
	if r.ownClient {
		err = errors.Join(err, r.client.Close())
	}
	if errors.Is(err, redis.ErrClosed) {
		err = nil
	}
	return err
}

// Health returns nil while Redis works, and otherwise an error wrapping
// ErrUnavailable with the last failure: the node is degraded (local
// traffic goes on, cross-node traffic does not).
func (r *Redis) Health() error {
	if r.subUp.Load() && r.pubUp.Load() {
		return nil
	}
	cause := errors.New("connection lost")
	if b := r.lastErr.Load(); b != nil {
		cause = b.err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, cause)
}

func (r *Redis) healthy() bool { return r.subUp.Load() && r.pubUp.Load() }

// Dropped counts the cross-node messages dropped because Redis was away or
// the publish queue was full.
func (r *Redis) Dropped() uint64 { return r.dropped.Load() }

// ClusterStats implements socketservice.ClusterStatsReporter, for
// pkg/metrics.
func (r *Redis) ClusterStats() socketservice.ClusterStats {
	st := socketservice.ClusterStats{
		Up: r.healthy(), Nodes: 1, Dropped: r.dropped.Load(), Sent: r.sent.Load(),
		Received: map[string]uint64{
			"broadcast": r.received[cluster.KindBroadcast].Load(),
			"request":   r.received[cluster.KindRequest].Load(),
			"response":  r.received[cluster.KindResponse].Load(),
			"heartbeat": r.received[cluster.KindHeartbeat].Load(),
		},
	}
	r.mu.Lock()
	for _, n := range r.nsps {
		st.Nodes = max(st.Nodes, int(n.ServerCount()))
	}
	r.mu.Unlock()
	return st
}

// EngineAdapter implements socketservice.Cluster. With recovery, each
// namespace keeps its recent broadcasts in a Redis stream (capped at
// Config.StreamMaxLen) and the sessions of dropped sockets in the
// recovery's shared store, so that a client recovers on any node.
func (r *Redis) EngineAdapter(ro *socketservice.RecoveryOptions) engine.AdapterConstructor {
	var rec *recovery.Options
	if ro != nil {
		rec = &recovery.Options{Store: ro.Store, Window: ro.Window, Logger: ro.Logger}
	}
	return cluster.Adapter((*bus)(r), rec)
}

// RecoversAcrossNodes implements socketservice.Cluster: true, through the
// streams and a shared session store.
func (r *Redis) RecoversAcrossNodes() bool { return true }

// register adds a namespace's channels; the subscription is sent at once
// (and again by go-redis after a reconnection).
func (r *Redis) register(n *cluster.Namespace) error {
	r.mu.Lock()
	if r.closed || !r.started {
		r.mu.Unlock()
		return ErrClosed
	}
	r.nsps[n.Name()] = n
	for key, kind := range n.ChannelKinds() {
		r.routes[key] = route{n, kind}
	}
	ps := r.ps
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.RequestTimeout)
	defer cancel()
	pattern, channels := n.Channels()
	err := errors.Join(
		ps.PSubscribe(ctx, pattern),
		ps.Subscribe(ctx, channels...),
	)
	if err != nil {
		r.fail("subscribe", err)
	}
	return err
}

func (r *Redis) unregister(n *cluster.Namespace) {
	r.mu.Lock()
	if r.nsps[n.Name()] == n {
		delete(r.nsps, n.Name())
		for key := range n.ChannelKinds() {
			delete(r.routes, key)
		}
	}
	ps, closed := r.ps, r.closed
	r.mu.Unlock()
	if closed || ps == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.RequestTimeout)
	defer cancel()
	pattern, channels := n.Channels()
	_ = ps.PUnsubscribe(ctx, pattern)
	_ = ps.Unsubscribe(ctx, channels...)
}

func (r *Redis) lookup(key string) (route, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt, ok := r.routes[key]
	return rt, ok
}

// publish queues a message for the other nodes. It never blocks: when the
// queue is full or Redis is known to be away the message is dropped and
// the error returned.
func (r *Redis) publish(channel string, payload []byte) error {
	if r.closedNow() {
		return ErrClosed
	}
	if !r.subUp.Load() {
		r.drop("redis unavailable")
		return r.Health()
	}
	select {
	case r.out <- outMsg{channel, payload}:
		return nil
	default:
		r.drop("publish queue full")
		return fmt.Errorf("%w: publish queue full", ErrUnavailable)
	}
}

func (r *Redis) closedNow() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

func (r *Redis) drop(why string) {
	n := r.dropped.Add(1)
	r.warn("adapter: cross-node message dropped", "reason", why, "dropped_total", n)
}

// warn logs at most once every 5 s, so that an outage does not flood the log.
func (r *Redis) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := r.lastWarn.Load()
	if now-last < int64(5*time.Second) || !r.lastWarn.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn(msg, args...)
}

func (r *Redis) fail(op string, err error) {
	r.lastErr.Store(&errBox{fmt.Errorf("%s: %w", op, err)})
	r.warn("adapter: redis error; cross-node traffic is degraded until it returns", "op", op, "error", err)
}

// publishLoop sends queued messages, pipelining what has piled up.
func (r *Redis) publishLoop() {
	defer r.loops.Done()
	batch := make([]outMsg, 0, 256)
	for {
		select {
		case <-r.stop:
			r.flush(batch)
			return
		case m := <-r.out:
			batch = append(batch[:0], m)
		drain:
			for len(batch) < cap(batch) {
				select {
				case m := <-r.out:
					batch = append(batch, m)
				default:
					break drain
				}
			}
			r.send(batch)
		}
	}
}

// flush sends what is still queued when the adapter stops (the goodbyes of
// namespaces that closed just before), if Redis is there.
func (r *Redis) flush(batch []outMsg) {
	batch = batch[:0]
	for {
		select {
		case m := <-r.out:
			batch = append(batch, m)
			continue
		default:
		}
		break
	}
	if len(batch) > 0 && r.healthy() {
		r.send(batch)
	}
}

func (r *Redis) send(batch []outMsg) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.RequestTimeout)
	defer cancel()
	var err error
	if len(batch) == 1 {
		err = r.client.Publish(ctx, batch[0].channel, batch[0].payload).Err()
	} else {
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range batch {
				p.Publish(ctx, m.channel, m.payload)
			}
			return nil
		})
	}
	if err != nil {
		if r.closedNow() {
			return
		}
		r.pubUp.Store(false)
		r.fail("publish", err)
		r.dropped.Add(uint64(len(batch)))
		return
	}
	r.sent.Add(uint64(len(batch)))
	r.pubUp.Store(true)
}

// receiveLoop reads the subscription connection and routes each message.
// After an error it backs off (50 ms doubling to 2 s) before go-redis
// dials again, so an outage costs no CPU to speak of.
func (r *Redis) receiveLoop() {
	defer r.loops.Done()
	backoff := time.Duration(0)
	for {
		msg, err := r.ps.ReceiveTimeout(context.Background(), 2*r.cfg.HeartbeatInterval)
		if r.closedNow() {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Silence, not failure: our own heartbeats arrive every
				// interval, so ask Redis directly.
				if perr := r.ps.Ping(context.Background()); perr == nil {
					continue
				}
			}
			r.subUp.Store(false)
			r.fail("subscribe", err)
			backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
			select {
			case <-r.stop:
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		if !r.subUp.Load() {
			r.subUp.Store(true)
			r.pubUp.Store(true)
			r.log.Info("adapter: redis is back; cross-node traffic resumes")
		}
		switch m := msg.(type) {
		case *redis.Message:
			key := m.Channel
			if m.Pattern != "" {
				key = m.Pattern
			}
			if rt, ok := r.lookup(key); ok {
				if int(rt.kind) < len(r.received) {
					r.received[rt.kind].Add(1)
				}
				rt.nsp.OnMessage(rt.kind, m.Channel, []byte(m.Payload))
			}
		}
	}
}

// heartbeatLoop tells the other nodes this one is alive, forgets silent
// nodes, and counts the Node servers of each namespace.
func (r *Redis) heartbeatLoop() {
	defer r.loops.Done()
	t := time.NewTicker(r.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		nsps := make([]*cluster.Namespace, 0, len(r.nsps))
		for _, n := range r.nsps {
			nsps = append(nsps, n)
		}
		r.mu.Unlock()
		for _, n := range nsps {
			n.BeatAlive()
			n.ExpirePeers()
		}
		r.countForeign(nsps)
	}
}

// countForeign counts, per namespace, the subscribers of the request
// channel that are not socketfx nodes (those also subscribe to the
// heartbeat channel): Node servers, which send no heartbeats.
func (r *Redis) countForeign(nsps []*cluster.Namespace) {
	if len(nsps) == 0 || !r.healthy() {
		return
	}
	chans := make([]string, 0, 2*len(nsps))
	for _, n := range nsps {
		chans = append(chans, n.RequestChannel(), n.HeartbeatChannel())
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.RequestTimeout)
	defer cancel()
	counts, err := r.client.PubSubNumSub(ctx, chans...).Result()
	if err != nil {
		return
	}
	for _, n := range nsps {
		n.SetForeign(counts[n.RequestChannel()] - counts[n.HeartbeatChannel()])
	}
}

// backoffDialer dials like net.Dialer, but after a failed dial it waits
// (100 ms doubling to 2 s) before trying again, so that go-redis's pool
// cannot spin while Redis is down.
func backoffDialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var (
		mu    sync.Mutex
		next  time.Time
		delay time.Duration
		last  error
	)
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		if wait := time.Until(next); wait > 0 {
			err := last
			mu.Unlock()
			return nil, fmt.Errorf("adapter: redis dial backing off for %v after: %w", wait.Round(time.Millisecond), err)
		}
		mu.Unlock()
		c, err := d.DialContext(ctx, network, addr)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			delay = min(max(2*delay, 100*time.Millisecond), 2*time.Second)
			next, last = time.Now().Add(delay), err
			return nil, err
		}
		delay, next = 0, time.Time{}
		return c, nil
	}
}

// bus is the Redis adapter as the cluster protocol sees it (cluster.Bus).
type bus Redis

var _ cluster.Bus = (*bus)(nil)

func (b *bus) r() *Redis      { return (*Redis)(b) }
func (b *bus) UID() string    { return b.uid }
func (b *bus) Prefix() string { return b.cfg.Prefix }
func (b *bus) Timeouts() (request, heartbeat time.Duration) {
	return b.cfg.RequestTimeout, b.cfg.HeartbeatTimeout
}
func (b *bus) Logger() *slog.Logger                         { return b.log }
func (b *bus) Register(n *cluster.Namespace) error          { return b.r().register(n) }
func (b *bus) Unregister(n *cluster.Namespace)              { b.r().unregister(n) }
func (b *bus) Publish(channel string, payload []byte) error { return b.r().publish(channel, payload) }
func (b *bus) Healthy() bool                                { return b.r().healthy() }
func (b *bus) Health() error                                { return b.r().Health() }
func (b *bus) Closed() bool                                 { return b.r().closedNow() }
func (b *bus) Dropped(n uint64)                             { b.dropped.Add(n) }
func (b *bus) Warn(msg string, args ...any)                 { b.r().warn(msg, args...) }
func (b *bus) Stream(key string) recovery.Log               { return &streamLog{r: b.r(), key: key} }

func (b *bus) PublishNow(ctx context.Context, channel string, payload []byte) error {
	return b.client.Publish(ctx, channel, payload).Err()
}

func (b *bus) Go(f func()) {
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		f()
	}()
}
