// Package redisrate is a rate limit shared by every node of a cluster: the
// budget of a key (a user, by default) is kept in Redis, with the GCRA
// limiter of github.com/go-redis/redis_rate, so that a client cannot
// multiply its budget by spreading its sockets over nodes. It has the
// error contract of middleware.RateLimit: an event over the limit is
// answered RATE_LIMITED, with data.retryAfterMs, and not handled.
//
// While Redis is away the limiter falls back, by default, to a token bucket
// per key on each node (the same rate, per node), logs it once, and
// returns to Redis when Redis does; FailOpen and FailClosed are the other
// choices.
package redisrate
