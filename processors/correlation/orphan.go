package correlation

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// orphanIndex remembers trace ids seen on spans for a limited time. It
// holds at most maxEntries ids: a ring of insertions evicts the oldest
// when full, and entries older than the window are dropped as they reach
// the head of the ring.
type orphanIndex struct {
	mu     sync.RWMutex
	window int64
	seen   map[pcommon.TraceID]int64
	ring   []ringEntry
	head   int
	size   int
}

type ringEntry struct {
	id pcommon.TraceID
	ts int64
}

func newOrphanIndex(maxEntries int, window time.Duration) *orphanIndex {
	return &orphanIndex{
		window: int64(window),
		seen:   make(map[pcommon.TraceID]int64),
		ring:   make([]ringEntry, maxEntries),
	}
}

// addLocked records id as seen at now; the caller holds mu for writing.
func (x *orphanIndex) addLocked(id pcommon.TraceID, now int64) {
	x.expireLocked(now)
	if last, ok := x.seen[id]; ok && now-last < x.window/2 {
		// Re-queue only once per half window, so a busy trace costs a
		// ring slot per half window, not per span. An id therefore stays
		// known for at least half a window after its last span.
		return
	}
	if x.size == len(x.ring) {
		x.popLocked()
	}
	x.ring[(x.head+x.size)%len(x.ring)] = ringEntry{id: id, ts: now}
	x.size++
	x.seen[id] = now
}

// popLocked removes the oldest ring entry, and its id when no newer ring
// entry refreshed it.
func (x *orphanIndex) popLocked() {
	e := x.ring[x.head]
	if ts, ok := x.seen[e.id]; ok && ts == e.ts {
		delete(x.seen, e.id)
	}
	x.head = (x.head + 1) % len(x.ring)
	x.size--
}

func (x *orphanIndex) expireLocked(now int64) {
	for x.size > 0 && now-x.ring[x.head].ts > x.window {
		x.popLocked()
	}
}

// contains reports whether id was seen on a span within the window.
func (x *orphanIndex) contains(id pcommon.TraceID, now int64) bool {
	x.mu.RLock()
	ts, ok := x.seen[id]
	x.mu.RUnlock()
	return ok && now-ts <= x.window
}

// len is the number of indexed ids.
func (x *orphanIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.seen)
}
