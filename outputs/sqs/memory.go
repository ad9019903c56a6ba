package sqs

import (
	"container/list"
	"sync"
	"time"
)

// chunkKey identifies a chunk: SHA-256 of its tag and bytes.
type chunkKey [32]byte

// chunkState is what earlier flushes of a chunk achieved.
type chunkState struct {
	delivered map[int]bool // message indexes SQS accepted
	reported  bool         // oversize / undecodable / not-enriched already logged and counted
	elem      *list.Element
	at        time.Time // when it was stored
}

// memory remembers, per chunk that was handed back to Fluent Bit for retry,
// which of its messages were already delivered, so that the retried chunk
// sends only the rest. It is bounded in entries and age (LRU + TTL).
type memory struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	lru   *list.List // front: most recently stored; values are chunkKey
	items map[chunkKey]*chunkState
	now   func() time.Time
}

func newMemory(max int, ttl time.Duration) *memory {
	return &memory{max: max, ttl: ttl, lru: list.New(), items: map[chunkKey]*chunkState{}, now: time.Now}
}

// take removes and returns the remembered state of chunk k, or a fresh one.
// A flush owns its state until it puts it back, so two flushes of identical
// bytes at once never share one: the second starts fresh and sends
// everything (at worst a duplicate, never a loss).
// With lookup false (the key is not known) it returns a fresh state.
func (m *memory) take(k chunkKey, lookup bool) (st *chunkState, remembered bool) {
	if !lookup {
		return &chunkState{delivered: map[int]bool{}}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked()
	if s, ok := m.items[k]; ok {
		m.lru.Remove(s.elem)
		delete(m.items, k)
		s.elem = nil
		return s, true
	}
	return &chunkState{delivered: map[int]bool{}}, false
}

// put remembers the state of a chunk handed back for retry.
func (m *memory) put(k chunkKey, st *chunkState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.items[k]; ok {
		m.lru.Remove(old.elem)
	}
	st.at = m.now()
	st.elem = m.lru.PushFront(k)
	m.items[k] = st
	for m.lru.Len() > m.max {
		m.removeLocked(m.lru.Back())
	}
}

func (m *memory) expireLocked() {
	now := m.now()
	for e := m.lru.Back(); e != nil && now.Sub(m.items[e.Value.(chunkKey)].at) >= m.ttl; e = m.lru.Back() {
		m.removeLocked(e)
	}
}

func (m *memory) removeLocked(e *list.Element) {
	delete(m.items, e.Value.(chunkKey))
	m.lru.Remove(e)
}

func (m *memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}
