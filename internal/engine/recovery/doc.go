// Package recovery is socketfx's connection-state recovery: what the engine
// adapter does when a socket drops (keep its session in a session.Store)
// and when its client comes back (take the session, find the packets it
// missed in a Log). The single-node adapter here keeps the log in memory;
// pkg/adapter keeps it in a Redis stream, so that any node can recover a
// socket.
//
// A client that never received a packet has no offset to present (Node's
// socket.io does not recover it). socketfx presents NoOffset for it and
// replays every packet since the socket first connected.
package recovery
