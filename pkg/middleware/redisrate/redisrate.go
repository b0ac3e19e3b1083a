package redisrate

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"golang.org/x/time/rate"
)

// Fallback says what the limiter does while Redis is away.
type Fallback int

const (
	// FallbackLocal limits each key on each node with a token bucket of
	// the same rate: a client spread over n nodes gets up to n times its
	// budget until Redis is back. The default.
	FallbackLocal Fallback = iota
	// FailOpen lets every event through.
	FailOpen
	// FailClosed refuses every event with SERVICE_UNAVAILABLE.
	FailClosed
)

// Config configures New.
type Config struct {
	// Client is the Redis client; required. The cluster adapter's Redis
	// does.
	Client redis.UniversalClient
	// Rate is how many events per second a key may send on average;
	// Burst how many at once (zero is Rate rounded up, at least 1).
	Rate  float64
	Burst int
	// Key names whose budget an event spends; the default is the
	// identity's subject ("user:<subject>"), or the socket's id
	// ("socket:<id>") without an identity. An empty key is not limited.
	Key func(ctx context.Context, m *socketservice.Message) string
	// Name tells the budgets of two limiters apart (part of the Redis
	// key); the default is "default".
	Name string
	// Prefix starts every Redis key; the default is "socketfx:rate:".
	Prefix string
	// OnRedisError is what happens while Redis is away; the default is
	// FallbackLocal.
	OnRedisError Fallback
	// Timeout bounds one Redis call; past it the fallback applies. Zero is
	// 200 ms.
	Timeout time.Duration
	// Logger gets the outage and recovery lines; the default is
	// slog.Default().
	Logger *slog.Logger
}

// New returns the middleware. It fails on a config it cannot use.
func New(cfg Config) (socketservice.Middleware, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisrate: Config.Client is required")
	}
	if cfg.Rate <= 0 || math.IsInf(cfg.Rate, 0) || math.IsNaN(cfg.Rate) {
		return nil, errors.New("redisrate: Config.Rate must be a positive number of events per second")
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(math.Ceil(cfg.Rate)))
	}
	if cfg.Key == nil {
		cfg.Key = byIdentity
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "socketfx:rate:"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &limiter{
		cfg:   cfg,
		redis: redis_rate.NewLimiter(cfg.Client),
		// GCRA's emission interval is Period/Rate: one event per 1/Rate s.
		limit: redis_rate.Limit{Rate: 1, Burst: cfg.Burst, Period: time.Duration(float64(time.Second) / cfg.Rate)},
		local: map[string]*rate.Limiter{},
	}
	return l.middleware, nil
}

func byIdentity(ctx context.Context, _ *socketservice.Message) string {
	if id, ok := socketservice.IdentityFromContext(ctx); ok && id.Subject != "" {
		return "user:" + id.Subject
	}
	if s, ok := socketservice.SocketFromContext(ctx); ok {
		return "socket:" + s.ID()
	}
	return ""
}

type limiter struct {
	cfg   Config
	redis *redis_rate.Limiter
	limit redis_rate.Limit
	down  atomic.Bool // Redis is away: logged once

	mu    sync.Mutex
	local map[string]*rate.Limiter
	seen  int
}

func (l *limiter) middleware(next socketservice.HandlerFunc) socketservice.HandlerFunc {
	return func(ctx context.Context, m *socketservice.Message) (any, error) {
		key := l.cfg.Key(ctx, m)
		if key == "" {
			return next(ctx, m)
		}
		wait, err := l.allow(ctx, key)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			return nil, socketservice.NewError(socketservice.CodeRateLimited, "too many events, slow down").
				WithData("retryAfterMs", max(1, wait.Milliseconds()))
		}
		return next(ctx, m)
	}
}

// allow spends one event of key's budget; it returns how long to wait
// before the next would be allowed, zero when this one is.
func (l *limiter) allow(ctx context.Context, key string) (time.Duration, error) {
	cctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	res, err := l.redis.Allow(cctx, l.cfg.Prefix+l.cfg.Name+":"+key, l.limit)
	if err == nil {
		if l.down.CompareAndSwap(true, false) {
			l.cfg.Logger.Info("redisrate: Redis is back; the rate limit is shared by the cluster again", "limiter", l.cfg.Name)
		}
		if res.Allowed > 0 {
			return 0, nil
		}
		return res.RetryAfter, nil
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if l.down.CompareAndSwap(false, true) {
		l.cfg.Logger.Warn("redisrate: Redis is away; "+l.fallbackText(), "limiter", l.cfg.Name, "error", err)
	}
	switch l.cfg.OnRedisError {
	case FailOpen:
		return 0, nil
	case FailClosed:
		return 0, socketservice.NewError(socketservice.CodeUnavailable, "rate limit unavailable, try again").WithCause(err)
	}
	return l.allowLocal(key, time.Now()), nil
}

func (l *limiter) fallbackText() string {
	switch l.cfg.OnRedisError {
	case FailOpen:
		return "events are not limited until it returns"
	case FailClosed:
		return "events are refused until it returns"
	}
	return "each node limits on its own until it returns"
}

// allowLocal is the fallback: a token bucket per key on this node. Full
// buckets are forgotten every 1,024 calls, so the map holds the keys seen
// within one refill.
func (l *limiter) allowLocal(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen++; l.seen >= 1024 {
		l.seen = 0
		for k, b := range l.local {
			if b.TokensAt(now) >= float64(l.cfg.Burst) {
				delete(l.local, k)
			}
		}
	}
	b := l.local[key]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst)
		l.local[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}
