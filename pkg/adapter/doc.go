// Package adapter joins socketfx nodes into one cluster through Redis
// (go-redis v9), so that a broadcast, an ack, FetchSockets, a room change,
// a disconnect or a server event reaches sockets on every node.
//
// The wire format is that of Node's @socket.io/redis-adapter: socketfx
// nodes, Node socket.io servers and @socket.io/redis-emitter workers share
// one cluster, so a Node deployment can move to Go one node at a time.
// socketfx nodes also send heartbeats, so that a node that died is no
// longer waited for.
//
// While Redis is away, each node goes on serving its own clients; cross-node
// operations fail fast with ErrUnavailable, Health reports the node as
// degraded, and everything resumes when Redis returns.
//
// Under fx, add Module and supply a Config:
//
//	fx.New(
//		socketservice.Module,
//		adapter.Module,
//		fx.Supply(adapter.Config{URL: "redis://127.0.0.1:6379"}),
//		socketservice.AsService(NewChat),
//	)
package adapter
