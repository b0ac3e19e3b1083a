// Package session gives each socket a Session: typed values that survive a
// dropped connection when the client recovers it (Socket.IO
// connection-state recovery, socketservice.Config.Recovery), together with
// the socket's id, rooms and the packets it missed.
//
// Handlers and hooks find the socket's session with FromContext (or
// Socket.Session). Get, Load and Update give typed access; a service keeps
// its own state struct with Update and Load.
//
// A Store keeps the sessions of dropped sockets for the recovery window:
// NewMemoryStore on one node (the default), redisstore for a cluster, where
// a client may come back on another node. When a kept session's window ends
// unclaimed, socketfx runs the service's OnSessionExpired hooks once,
// cluster-wide.
package session
