// Package testhook lets pkg/testing/sockettest build a fake socket for
// calling handlers without a network, without pkg/socketservice exporting
// test-only API. socketservice fills NewContext in at init.
package testhook

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"sync"
)

// Emit is one emit a handler made on a fake socket.
type Emit struct {
	// Socket is true for an emit to the socket itself (Socket.Emit).
	Socket bool
	// Rooms and Except are the rooms a broadcast targeted and excluded
	// (Socket.To, Socket.Broadcast, which excludes the socket's own id).
	Rooms, Except []string
	// Event and Args are what was emitted.
	Event string
	Args  []any
}

// Recorder is the state of a fake socket. It is safe for concurrent use.
type Recorder struct {
	ID      string
	AckFunc func(event string, args []any) ([]any, bool)

	mu           sync.Mutex
	rooms        map[string]bool
	emits        []Emit
	disconnected bool
}

// Record notes an emit.
func (r *Recorder) Record(e Emit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emits = append(r.emits, e)
}

// Emits returns the emits so far.
func (r *Recorder) Emits() []Emit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Emit(nil), r.emits...)
}

// Join adds rooms.
func (r *Recorder) Join(rooms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rooms == nil {
		r.rooms = map[string]bool{}
	}
	for _, room := range rooms {
		r.rooms[room] = true
	}
}

// Leave removes rooms.
func (r *Recorder) Leave(rooms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, room := range rooms {
		delete(r.rooms, room)
	}
}

// Rooms returns the rooms joined, sorted, with the socket's own id room.
func (r *Recorder) Rooms() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{r.ID}
	for room := range r.rooms {
		if room != r.ID {
			out = append(out, room)
		}
	}
	sort.Strings(out[1:])
	return out
}

// Disconnect marks the socket disconnected.
func (r *Recorder) Disconnect() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disconnected = true
}

// Disconnected reports whether the handler disconnected the socket.
func (r *Recorder) Disconnected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.disconnected
}

// NewContext returns a handler context whose socket is the fake rec, in
// namespace nsp, handling event. Set by pkg/socketservice.
var NewContext func(parent context.Context, rec *Recorder, nsp, event string, auth map[string]any, query url.Values, headers http.Header) context.Context

// Serve runs the handler a service registered for the context's event
// (with its middleware), as the server would, on the context's fake
// socket. Set by pkg/socketservice.
var Serve func(ctx context.Context, svc any, args []any) (any, error)

// CrashCluster stops a cluster adapter the way a killed process would (no
// goodbye to the other nodes). pkg/adapter fills it in at init; the
// multi-node harness calls it.
var CrashCluster func(cluster any) bool
