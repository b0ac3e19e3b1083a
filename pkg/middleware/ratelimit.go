package middleware

import (
	"context"
	"sync"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"golang.org/x/time/rate"
)

// RateLimitConfig sets a per-socket token bucket.
type RateLimitConfig struct {
	// Rate is how many events per second a socket may send on average.
	Rate float64
	// Burst is how many it may send at once. Zero means 1.
	Burst int
	// DisconnectAfter, when positive, disconnects a socket after that many
	// rejected events in a row (an abusive client); the event that crosses
	// the line is not answered. Zero never disconnects.
	DisconnectAfter int
}

// RateLimit limits how fast each socket may send the events it wraps, with
// a token bucket per socket (golang.org/x/time/rate). An event over the
// limit is answered RATE_LIMITED, with data.retryAfterMs (when the next
// would be allowed), and not handled; other sockets are not affected. The
// buckets are this node's: pkg/middleware/redisrate shares a budget across
// a cluster. Each RateLimit call makes its own buckets: wrap several events
// with one value to share a budget.
func RateLimit(cfg RateLimitConfig) socketservice.Middleware {
	burst := cfg.Burst
	if burst <= 0 {
		burst = 1
	}
	type bucket struct {
		limiter  *rate.Limiter
		mu       sync.Mutex
		rejected int
	}
	key := &struct{ byte }{} // unique per RateLimit call
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			s, ok := socketservice.SocketFromContext(ctx)
			if !ok {
				return next(ctx, m)
			}
			v, ok := s.Get(key)
			if !ok {
				v = &bucket{limiter: rate.NewLimiter(rate.Limit(cfg.Rate), burst)}
				s.Set(key, v)
			}
			b := v.(*bucket)
			now := time.Now()
			res := b.limiter.ReserveN(now, 1)
			wait := res.DelayFrom(now)
			if wait == 0 {
				b.mu.Lock()
				b.rejected = 0
				b.mu.Unlock()
				return next(ctx, m)
			}
			res.CancelAt(now)
			b.mu.Lock()
			b.rejected++
			abusive := cfg.DisconnectAfter > 0 && b.rejected >= cfg.DisconnectAfter
			b.mu.Unlock()
			if abusive {
				socketservice.LoggerFromContext(ctx).Warn("middleware: rate limit: disconnecting abusive socket", "rejected", cfg.DisconnectAfter)
				s.Disconnect(true)
			}
			return nil, socketservice.NewError(socketservice.CodeRateLimited, "too many events, slow down").
				WithData("retryAfterMs", max(1, wait.Milliseconds()))
		}
	}
}
