package socketservice

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config holds the per-deployment settings of the Socket.IO server. The zero
// value is usable: every zero field takes the default documented on it, the
// same defaults as Node's socket.io v4.
type Config struct {
	// Path is where the server is mounted. Default "/socket.io".
	Path string
	// Addr, when set, makes the server listen on this address itself (for
	// apps without an HTTP server of their own), e.g. ":3000" or
	// "127.0.0.1:0". Empty: mount Server.Handler() on your own mux.
	Addr string
	// CORS, when set, answers cross-origin requests. Nil: no CORS headers.
	CORS *CORSConfig
	// Transports lists the allowed transports, in the order a client may use
	// them: "polling", "websocket". Default both.
	Transports []string
	// PingInterval is how often the server pings each client. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong. Default 20s.
	PingTimeout time.Duration
	// MaxPayload is the largest message, in bytes, a client may send; a
	// larger one closes its connection (as in Node). Default 1,000,000.
	MaxPayload int64
	// ConnectTimeout closes a connection that joins no namespace in time.
	// Default 45s.
	ConnectTimeout time.Duration
	// Recovery, when set, turns on Socket.IO connection-state recovery.
	Recovery *RecoveryConfig
	// ExposeErrors sends the text of non-*Error errors to clients instead of
	// a generic message. For development only: it leaks internals.
	ExposeErrors bool
	// UnknownEvents says what happens to an event no handler serves.
	// Default ReportUnknownEvents.
	UnknownEvents UnknownEventPolicy
	// ShutdownTimeout bounds a graceful stop as a whole (draining
	// handlers, flushing their acks, closing connections, running
	// disconnect hooks, closing the listener): one deadline for every
	// stage, or the stop context's when it is earlier. What is still
	// running then is abandoned and its context cancelled. Default 10s.
	// Under fx the stop context's deadline is fx.StopTimeout (15s unless
	// set): keep ShutdownTimeout below it.
	ShutdownTimeout time.Duration
	// DrainDelay is how long, once Stop begins, the server goes on
	// serving (new connections included) with Ready failing, before it
	// stops accepting: Kubernetes takes a pod out of its Service's
	// endpoints asynchronously to SIGTERM, so traffic can still arrive
	// for a few seconds. It counts within ShutdownTimeout and must be
	// shorter (Validate fails otherwise); a stop context that leaves less
	// than DrainDelay plus a second shortens it, with a warning. Default 0
	// (docs/operations.md has a Kubernetes setup).
	DrainDelay time.Duration
	// Limits bounds the connections one client address may hold and open
	// (see ConnLimits); nil is no limits.
	Limits *ConnLimits
	// WriteBuffer bounds what the server holds for a connection that does
	// not read what it is sent (a slow consumer); see WriteBufferConfig.
	// On by default.
	WriteBuffer WriteBufferConfig
}

// WriteBufferConfig bounds each connection's backlog: the packets the
// server holds because the connection's transport is still writing earlier
// ones. A client that stops reading (a stalled network, a frozen tab, an
// attacker) would otherwise make the server buffer without bound. Past
// either bound the connection is closed: its sockets' disconnect hooks see
// the reason "slow consumer", the server logs the address and the
// backlog, and the client sees its transport close and reconnects (with
// connection-state recovery, to its session and the packets it missed
// that the recovery window still holds). Volatile emits
// (Namespace.Volatile) are dropped instead while the transport is busy, as
// in Node, and never count.
type WriteBufferConfig struct {
	// MaxBytes is the most payload bytes a connection's backlog may hold.
	// Zero is DefaultWriteBufferBytes (4 MiB); negative is no limit.
	MaxBytes int64
	// MaxPackets is the most packets it may hold. Zero is
	// DefaultWriteBufferPackets (10,000); negative is no limit.
	MaxPackets int
}

// CORSConfig sets the CORS answer for browser clients on other origins.
type CORSConfig struct {
	// Origins allowed; "*" allows any. Empty: any.
	Origins []string
	// Credentials allows cookies and auth headers.
	Credentials bool
}

// RecoveryConfig configures connection-state recovery: after an unexpected
// disconnect the server keeps the socket's id, rooms, data and missed
// packets, and restores them if the client comes back in time.
type RecoveryConfig struct {
	// MaxDisconnectionDuration is how long a dropped socket's state is kept.
	// Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares skips connection middleware for a recovered socket.
	// (OnConnect hooks still run, and see Socket.Recovered.)
	SkipMiddlewares bool
}

// UnknownEventPolicy says what to do with events that no handler serves.
type UnknownEventPolicy int

const (
	// ReportUnknownEvents answers an unknown event that asked for an ack with
	// a NOT_FOUND error, and logs it at debug level.
	ReportUnknownEvents UnknownEventPolicy = iota
	// IgnoreUnknownEvents drops unknown events silently; a client waiting for
	// an ack times out.
	IgnoreUnknownEvents
)

// Defaults of Config.
const (
	DefaultPath                     = "/socket.io"
	DefaultPingInterval             = 25 * time.Second
	DefaultPingTimeout              = 20 * time.Second
	DefaultMaxPayload               = 1_000_000
	DefaultWriteBufferBytes         = 4 << 20
	DefaultWriteBufferPackets       = 10_000
	DefaultConnectTimeout           = 45 * time.Second
	DefaultShutdownTimeout          = 10 * time.Second
	DefaultMaxDisconnectionDuration = 2 * time.Minute
)

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	c.Path = "/" + strings.Trim(c.Path, "/")
	if len(c.Transports) == 0 {
		c.Transports = []string{"polling", "websocket"}
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.WriteBuffer.MaxBytes == 0 {
		c.WriteBuffer.MaxBytes = DefaultWriteBufferBytes
	}
	if c.WriteBuffer.MaxPackets == 0 {
		c.WriteBuffer.MaxPackets = DefaultWriteBufferPackets
	}
	if c.Recovery != nil {
		r := *c.Recovery
		if r.MaxDisconnectionDuration == 0 {
			r.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		c.Recovery = &r
	}
	return c
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	for _, t := range c.Transports {
		if t != "polling" && t != "websocket" {
			errs = append(errs, fmt.Errorf("transport %q is not supported (use polling, websocket)", t))
		}
	}
	for name, d := range map[string]time.Duration{
		"PingInterval": c.PingInterval, "PingTimeout": c.PingTimeout,
		"ConnectTimeout": c.ConnectTimeout, "ShutdownTimeout": c.ShutdownTimeout,
		"DrainDelay": c.DrainDelay,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name))
		}
	}
	if shutdown := cmp.Or(c.ShutdownTimeout, DefaultShutdownTimeout); c.DrainDelay > 0 && c.DrainDelay >= shutdown {
		errs = append(errs, fmt.Errorf("DrainDelay (%s) must be shorter than ShutdownTimeout (%s), which bounds the whole stop, drain delay included", c.DrainDelay, shutdown))
	}
	if c.MaxPayload < 0 {
		errs = append(errs, errors.New("MaxPayload must not be negative"))
	}
	if c.Recovery != nil && c.Recovery.MaxDisconnectionDuration < 0 {
		errs = append(errs, errors.New("Recovery.MaxDisconnectionDuration must not be negative"))
	}
	if l := c.Limits; l != nil && (l.MaxPerIP < 0 || l.RatePerIP < 0 || l.BurstPerIP < 0) {
		errs = append(errs, errors.New("Limits.MaxPerIP, Limits.RatePerIP and Limits.BurstPerIP must not be negative"))
	}
	if c.UnknownEvents != ReportUnknownEvents && c.UnknownEvents != IgnoreUnknownEvents {
		errs = append(errs, fmt.Errorf("UnknownEvents %d is not a known policy", c.UnknownEvents))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("socketservice: invalid config: %w", err)
	}
	return nil
}
