package session

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Session is the state socketfx keeps for one socket: values your handlers
// and hooks set, which survive a dropped connection when the client
// recovers it (Socket.IO connection-state recovery), on this node or, with
// the Redis store and adapter, on another. It is safe for concurrent use.
//
// Values must survive encoding/json: after a recovery on another node they
// come back decoded from JSON, and Get, Load and Update convert them back
// to the type you ask for.
type Session struct {
	id string
	mu sync.RWMutex
	v  map[string]any
}

// New returns an empty session with the given id (socketfx uses the
// socket's id, which recovery keeps).
func New(id string) *Session { return &Session{id: id, v: map[string]any{}} }

// ID is the session's id: the id of the socket it belongs to.
func (s *Session) ID() string { return s.id }

// Set stores value under key.
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	s.v[key] = value
	s.mu.Unlock()
}

// Value returns the value stored under key as it is held (after a recovery
// on another node: as decoded from JSON). Get converts it for you.
func (s *Session) Value(key string) (any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.v[key]
	return v, ok
}

// Delete removes key.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	delete(s.v, key)
	s.mu.Unlock()
}

// Keys returns the keys set, sorted.
func (s *Session) Keys() []string {
	s.mu.RLock()
	keys := make([]string, 0, len(s.v))
	for k := range s.v {
		keys = append(keys, k)
	}
	s.mu.RUnlock()
	sort.Strings(keys)
	return keys
}

// Snapshot returns the values encoded as JSON, for a Store. A value that
// cannot be encoded is an error naming its key.
func (s *Session) Snapshot() (map[string]json.RawMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]json.RawMessage, len(s.v))
	for k, v := range s.v {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("session: value %q cannot be stored: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

// Restore returns a session holding values from a Snapshot (kept as raw
// JSON until read with Get, Load or Update).
func Restore(id string, values map[string]json.RawMessage) *Session {
	s := New(id)
	for k, v := range values {
		s.v[k] = v
	}
	return s
}

// Get returns the value under key as a T. ok is false when the key is
// unset; err is set when the value cannot be converted to T.
func Get[T any](s *Session, key string) (value T, ok bool, err error) {
	s.mu.RLock()
	raw, ok := s.v[key]
	s.mu.RUnlock()
	if !ok {
		return value, false, nil
	}
	value, err = convert[T](raw)
	if err != nil {
		return value, true, fmt.Errorf("session: value %q: %w", key, err)
	}
	return value, true, nil
}

// Load returns the session's typed state of type T (see Update): the zero
// T when none was stored.
func Load[T any](s *Session) (T, error) {
	v, _, err := Get[T](s, typeKey[T]())
	return v, err
}

// Update changes the session's typed state of type T under the session's
// lock, so that concurrent handlers do not lose each other's changes. A
// service declares its state as a struct and keeps it with Update:
//
//	type ChatState struct{ Name string; Rooms []string }
//
//	session.Update(s, func(st *ChatState) { st.Rooms = append(st.Rooms, room) })
//	st, _ := session.Load[ChatState](s)
func Update[T any](s *Session, fn func(*T)) error {
	key := typeKey[T]()
	s.mu.Lock()
	defer s.mu.Unlock()
	var v T
	if raw, ok := s.v[key]; ok {
		var err error
		if v, err = convert[T](raw); err != nil {
			return fmt.Errorf("session: state %s: %w", key, err)
		}
	}
	fn(&v)
	s.v[key] = v
	return nil
}

func typeKey[T any]() string {
	t := reflect.TypeFor[T]()
	return "$state:" + t.PkgPath() + "." + t.String()
}

func convert[T any](raw any) (T, error) {
	if v, ok := raw.(T); ok {
		return v, nil
	}
	var out T
	b, ok := raw.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(raw); err != nil {
			return out, err
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("cannot convert to %T: %w", out, err)
	}
	return out, nil
}

type ctxKey struct{}

// NewContext returns ctx carrying s.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the session of the socket whose handler or hook is
// running (socketfx puts it in every handler's and hook's context).
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	return s, ok
}
