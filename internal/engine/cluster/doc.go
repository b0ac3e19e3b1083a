// Package cluster is the engine side of socketfx's multi-node adapter: the
// cluster protocol of Node's @socket.io/redis-adapter (v8) and
// @socket.io/redis-emitter (v5), in their msgpack wire format, so that
// socketfx nodes, Node servers and Node emitters share one Redis.
//
// A Namespace is the engine adapter of one namespace: the engine's
// in-memory adapter for local sockets, with cross-node broadcasts,
// requests (fetchSockets, socketsJoin/Leave, disconnectSockets,
// serverSideEmit, broadcasts with acks) and heartbeats on top. It talks to
// the other nodes through a Bus, which pkg/adapter implements on Redis
// pub/sub; Adapter turns a Bus into the adapter constructor the driver
// takes.
package cluster
