// Package redisstore is a session.Store in Redis (go-redis v9): every node
// of a cluster finds the session of a client that comes back to it, and a
// session that expires unclaimed is reported once, cluster-wide.
//
// Each record is a key with a TTL a little longer than the recovery window,
// plus an entry in a sorted set of deadlines; Take and Expired claim a
// record atomically (a Lua script), so two nodes never both get it.
package redisstore
