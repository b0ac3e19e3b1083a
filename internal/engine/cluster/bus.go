package cluster

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/internal/engine/recovery"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Bus is the transport under the cluster protocol: pkg/adapter implements
// it on Redis pub/sub. Its methods are safe for concurrent use.
type Bus interface {
	// UID is this node's id on the wire; Prefix starts every channel name.
	UID() string
	Prefix() string
	// Timeouts are the request timeout (answers from other nodes) and the
	// heartbeat timeout (a silent node is no longer counted).
	Timeouts() (request, heartbeat time.Duration)
	Logger() *slog.Logger
	// Register subscribes to a namespace's channels and routes what
	// arrives on them to n.OnMessage; Unregister undoes it.
	Register(n *Namespace) error
	Unregister(n *Namespace)
	// Publish queues a message without blocking; an error means it was
	// dropped. PublishNow sends at once (a goodbye at stop).
	Publish(channel string, payload []byte) error
	PublishNow(ctx context.Context, channel string, payload []byte) error
	// Healthy reports a working connection; Health says why not, wrapping
	// ErrUnavailable.
	Healthy() bool
	Health() error
	// Closed reports a bus that stopped.
	Closed() bool
	// Dropped counts messages for other nodes that were not sent.
	Dropped(n uint64)
	// Warn logs at most every so often (malformed input from the bus).
	Warn(msg string, args ...any)
	// Go runs a server event handler off the receive loop, on a goroutine
	// the bus waits for when it stops.
	Go(f func())
	// Stream is the recovery log of the stream key (connection-state
	// recovery across nodes).
	Stream(key string) recovery.Log
}

// Kind is the kind of channel a message arrived on.
type Kind int

// The channels of a namespace.
const (
	KindBroadcast Kind = iota
	KindRequest
	KindResponse
	KindHeartbeat
)

// Errors of cross-node operations; pkg/adapter exports them.
var (
	ErrUnavailable = errors.New("adapter: redis unavailable")
	ErrTimeout     = errors.New("adapter: not every node answered in time")
	ErrClosed      = errors.New("adapter: closed")
)

// Adapter returns the engine adapter constructor of a bus: every namespace
// joins the cluster through it. rec turns on recovery across nodes.
func Adapter(bus Bus, rec *recovery.Options) engine.AdapterConstructor {
	return builder{bus: bus, rec: rec}
}

type builder struct {
	bus Bus
	rec *recovery.Options
}

func (b builder) New(nsp socket.Namespace) socket.Adapter { return newNamespace(b.bus, nsp, b.rec) }

// Name returns the namespace's name.
func (a *Namespace) Name() string { return a.name }

// Channels returns the pattern of broadcast channels and the request,
// response, own-response and heartbeat channels of the namespace.
func (a *Namespace) Channels() (broadcastPattern string, channels []string) {
	return a.broadcastPattern, []string{a.requestChannel, a.responseChannel, a.ownResponseChannel, a.heartbeatChannel}
}

// ChannelKinds maps each channel (and the broadcast pattern) to its kind.
func (a *Namespace) ChannelKinds() map[string]Kind {
	return map[string]Kind{
		a.broadcastPattern:   KindBroadcast,
		a.requestChannel:     KindRequest,
		a.responseChannel:    KindResponse,
		a.ownResponseChannel: KindResponse,
		a.heartbeatChannel:   KindHeartbeat,
	}
}

// RequestChannel is the namespace's request channel. Node servers subscribe
// to it but not to the heartbeat channel, which lets the bus count them.
func (a *Namespace) RequestChannel() string { return a.requestChannel }

// HeartbeatChannel is the namespace's heartbeat channel.
func (a *Namespace) HeartbeatChannel() string { return a.heartbeatChannel }

// SetForeign sets how many Node servers serve the namespace.
func (a *Namespace) SetForeign(n int64) { a.foreign.Store(max(0, n)) }

// BeatAlive tells the other nodes this one is alive.
func (a *Namespace) BeatAlive() { a.beat(beatAlive) }
