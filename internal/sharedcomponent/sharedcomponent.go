// Package sharedcomponent shares one value among the instances the
// collector creates for one component ID (one per pipeline and signal),
// with reference counts: the value is created with the first instance,
// started with the first Start, and shut down and forgotten when the last
// instance shuts down; the next instance of that ID (after a reload)
// creates a fresh one.
//
// The collector's own internal/sharedcomponent (core and contrib) is the
// model. It shuts the shared value down with the first Shutdown of any
// instance; counting references keeps it running until every instance
// that holds it is gone, whatever order the instances stop in.
package sharedcomponent

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// Map holds one shared value per key (a component.ID). It is safe for
// concurrent use; the zero value is not usable, use NewMap.
type Map[K comparable, V component.Component] struct {
	mu      sync.Mutex
	entries map[K]*entry[V]
}

// entry is one shared value with its reference count.
type entry[V component.Component] struct {
	value V
	refs  int // guarded by Map.mu

	// life orders the value's Start and Shutdown.
	life     sync.Mutex
	started  bool
	startErr error
}

// NewMap returns an empty Map.
func NewMap[K comparable, V component.Component]() *Map[K, V] {
	return &Map[K, V]{entries: map[K]*entry[V]{}}
}

// LoadOrStore returns a new reference to key's value, creating the value
// with create when no live reference holds one. A create error is
// returned as it is and nothing is stored. Every reference returned must
// be shut down once, started or not.
func (m *Map[K, V]) LoadOrStore(key K, create func() (V, error)) (*Ref[K, V], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		v, err := create()
		if err != nil {
			return nil, err
		}
		e = &entry[V]{value: v}
		m.entries[key] = e
	}
	e.refs++
	return &Ref[K, V]{m: m, key: key, e: e}, nil
}

// Acquire takes one more reference to key's value when a live reference
// holds one, and reports false (creating nothing) when none does: for a
// component that uses a value another component kind creates (the slo
// processor counting into the slo connector's engine).
func (m *Map[K, V]) Acquire(key K) (*Ref[K, V], bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, false
	}
	e.refs++
	return &Ref[K, V]{m: m, key: key, e: e}, true
}

// Get returns key's value while a live reference holds one, without
// taking a reference (for inspection; the value may be shut down at any
// moment after).
func (m *Map[K, V]) Get(key K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Len is the number of shared values held: keys with a live reference.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Ref is one instance's reference to a shared value. It is itself a
// component.Component: its Start and Shutdown are the instance's.
type Ref[K comparable, V component.Component] struct {
	m   *Map[K, V]
	key K
	e   *entry[V]

	mu       sync.Mutex
	released bool
}

var _ component.Component = (*Ref[string, component.Component])(nil)

// Value is the shared value.
func (r *Ref[K, V]) Value() V { return r.e.value }

// errStartAfterShutdown is returned by Start on a reference already shut
// down: its value may be gone.
var errStartAfterShutdown = errors.New("sharedcomponent: Start called after Shutdown")

// Start starts the shared value if no reference started it yet; every
// reference gets the error of that one start.
func (r *Ref[K, V]) Start(ctx context.Context, host component.Host) error {
	r.mu.Lock()
	released := r.released
	r.mu.Unlock()
	if released {
		return errStartAfterShutdown
	}
	e := r.e
	e.life.Lock()
	defer e.life.Unlock()
	if !e.started {
		e.started = true
		e.startErr = e.value.Start(ctx, host)
	}
	return e.startErr
}

// Shutdown drops the reference; a second call does nothing. The last
// reference of a value shuts the value down (started or not, as the
// collector does with any component) and removes it from the map.
func (r *Ref[K, V]) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.released {
		r.mu.Unlock()
		return nil
	}
	r.released = true
	r.mu.Unlock()

	m, e := r.m, r.e
	m.mu.Lock()
	e.refs--
	last := e.refs == 0
	if last && m.entries[r.key] == e {
		delete(m.entries, r.key)
	}
	m.mu.Unlock()
	if !last {
		return nil
	}
	e.life.Lock()
	defer e.life.Unlock()
	return e.value.Shutdown(ctx)
}
