// Package engine is socketfx's only door to the zishang520 Socket.IO engine
// (github.com/zishang520/socket.io v3): the rest of the module talks to it
// through the types here, and a test checks that no other package imports
// the engine.
//
// A Driver owns the engine: its socket.io server, one socket.io client per
// connection, the acks socketfx sends on the wire, the broadcast operators
// and every workaround of an engine defect (docs/engine.md). The framework
// (pkg/socketservice) implements Events and, per socket, Handler:
//
//	client ── websocket / long-poll ──► Driver.ServeHTTP (gate, poll set, session checks)
//	   engine.io socket ── "packet" ──► connState.onMessage   (holds packets of a connecting namespace,
//	                                                           takes socketfx's own acks, rewrites CONNECT)
//	   socket.io client ── CONNECT ───► Driver.onHandshake ─► Events.Handshake(*Conn) ─► Conn.Accept / Reject
//	                                    Driver.onConnection ─► Handler.OnConnect
//	                    ── EVENT ─────► Conn.onEvent ────────► Handler.OnEvent(event, args, ack)
//	                                                           └► socketservice: queue, middleware, handler, ack
//	                    ── close ─────► Driver.onDisconnect ─► Handler.OnDisconnect(reason) (or OnDrop)
//
// Handles of namespaces go the other way through Broadcaster (Emit,
// EmitWithAck, FetchSockets, room changes, server events), which the Driver
// implements on the engine's adapters and the test kit by recording.
// Socket is the per-socket side of the same seam: *Conn on the wire, a
// recorder in pkg/testing/sockettest.
//
// Subpackages: recovery (connection-state recovery on a session.Store),
// cluster (the cluster protocol of Node's @socket.io/redis-adapter over a
// Bus, which pkg/adapter implements on Redis) and bare (echo servers for
// measurements).
package engine
