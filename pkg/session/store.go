package session

import (
	"context"
	"encoding/json"
	"time"
)

// Record is what a Store keeps of a socket whose connection dropped, until
// its client recovers it or the recovery window ends.
type Record struct {
	// ID is the Socket.IO private session id the client presents to
	// recover (never shown to other clients).
	ID string `json:"id"`
	// SocketID is the socket's public id, which recovery keeps.
	SocketID string `json:"sid"`
	// Namespace is the socket's namespace.
	Namespace string `json:"nsp"`
	// Rooms are the rooms the socket was in.
	Rooms []string `json:"rooms"`
	// Values are the session's values (Session.Snapshot).
	Values map[string]json.RawMessage `json:"values,omitempty"`
	// ConnectedAt is when the socket first connected: a client that never
	// received a packet has no offset and gets every packet since then.
	ConnectedAt time.Time `json:"connectedAt"`
	// DisconnectedAt is when the connection dropped.
	DisconnectedAt time.Time `json:"disconnectedAt"`
}

// Store keeps the records of dropped sockets for the recovery window.
// Implementations are safe for concurrent use. NewMemoryStore keeps them in
// this process; redisstore keeps them in Redis, where every node of a
// cluster finds them.
type Store interface {
	// Save keeps rec until ttl has passed.
	Save(ctx context.Context, rec Record, ttl time.Duration) error
	// Take removes and returns the record with id, if it is there and its
	// ttl has not passed. Of concurrent Takes, one gets the record.
	Take(ctx context.Context, id string) (Record, bool, error)
	// Delete removes the record with id, if any (a clean disconnect).
	Delete(ctx context.Context, id string) error
	// Expired removes and returns the records whose ttl passed before now
	// and that nobody took: each is returned once, across every process
	// sharing the store, so that OnSessionExpired hooks run once.
	Expired(ctx context.Context, now time.Time) ([]Record, error)
	// Shared reports whether other processes see the records (a cluster
	// can recover a socket on another node only with a shared store).
	Shared() bool
}
