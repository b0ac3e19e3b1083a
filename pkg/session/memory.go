package session

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a Store in this process's memory, for a single node.
type MemoryStore struct {
	mu   sync.Mutex
	recs map[string]memRecord
}

type memRecord struct {
	rec      Record
	deadline time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{recs: map[string]memRecord{}} }

// Save implements Store.
func (m *MemoryStore) Save(_ context.Context, rec Record, ttl time.Duration) error {
	m.mu.Lock()
	m.recs[rec.ID] = memRecord{rec, time.Now().Add(ttl)}
	m.mu.Unlock()
	return nil
}

// Take implements Store.
func (m *MemoryStore) Take(_ context.Context, id string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok || !time.Now().Before(r.deadline) {
		return Record{}, false, nil // an expired record is left for Expired
	}
	delete(m.recs, id)
	return r.rec, true, nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.recs, id)
	m.mu.Unlock()
	return nil
}

// Expired implements Store.
func (m *MemoryStore) Expired(_ context.Context, now time.Time) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for id, r := range m.recs {
		if !now.Before(r.deadline) {
			out = append(out, r.rec)
			delete(m.recs, id)
		}
	}
	return out, nil
}

// Shared implements Store: false, the records live in this process.
func (m *MemoryStore) Shared() bool { return false }

// Len returns how many records are kept (for tests and metrics).
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}
