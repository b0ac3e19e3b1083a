package adapter

import (
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/internal/engine/cluster"
)

// Config configures the Redis cluster adapter. The zero value is usable
// except that it needs a Redis: a URL, or a client passed with WithClient.
type Config struct {
	// URL of the Redis server, e.g. "redis://127.0.0.1:6379/0"
	// (go-redis's ParseURL syntax). Ignored when WithClient is used.
	URL string
	// Prefix of the Redis channels. Default "socket.io", the default of
	// Node's @socket.io/redis-adapter: nodes and Node servers share a
	// cluster when their prefixes match.
	Prefix string
	// RequestTimeout bounds cross-node requests that wait for every node:
	// FetchSockets and ServerSideEmitWithAck. Default 5s.
	RequestTimeout time.Duration
	// HeartbeatInterval is how often a node tells the others it is alive.
	// Default 5s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a silent node is still counted. Default
	// twice HeartbeatInterval.
	HeartbeatTimeout time.Duration
	// PublishQueue is how many outgoing messages may wait for Redis. When
	// it is full (Redis too slow or away), cross-node messages are dropped
	// and logged; local delivery never waits for Redis. Default 8192.
	PublishQueue int
	// StreamMaxLen caps each namespace's stream of recent broadcasts, kept
	// for connection-state recovery (only with socketservice.Config.Recovery).
	// Redis trims it approximately, and never below this. Default 10,000.
	StreamMaxLen int64
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "socket.io"
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 2 * c.HeartbeatInterval
	}
	if c.PublishQueue <= 0 {
		c.PublishQueue = 8192
	}
	if c.StreamMaxLen <= 0 {
		c.StreamMaxLen = 10_000
	}
	return c
}

// Option configures New: WithClient, WithLogger.
type Option interface{ applyRedis(*Redis) }

type optionFunc func(*Redis)

func (f optionFunc) applyRedis(r *Redis) { f(r) }

// WithClient uses a go-redis client the application already has (a
// *redis.Client, *redis.ClusterClient or any redis.UniversalClient). The
// adapter does not close it. Subscriptions use a dedicated connection of
// the client.
func WithClient(c redis.UniversalClient) Option {
	return optionFunc(func(r *Redis) { r.client, r.ownClient = c, false })
}

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(r *Redis) {
		if l != nil {
			r.log = l
		}
	})
}

// Errors of cross-node operations.
var (
	// ErrUnavailable is returned (wrapped, with the cause) by cross-node
	// operations while Redis cannot be reached. Local operations go on.
	ErrUnavailable = cluster.ErrUnavailable
	// ErrTimeout is returned when not every node answered a request within
	// Config.RequestTimeout.
	ErrTimeout = cluster.ErrTimeout
	// ErrClosed is returned after the adapter stopped.
	ErrClosed = cluster.ErrClosed
)
