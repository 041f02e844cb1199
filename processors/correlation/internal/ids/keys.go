package ids

import (
	"math/bits"

	"github.com/obsd-dev/obsd/internal/jsonscan"
)

// MaxKeys bounds the number of names a Matcher looks for.
const MaxKeys = jsonscan.MaxKeys

// maxDepth bounds how deep nested objects are followed (trace.trace, dd.trace_id).
const maxDepth = 4

// Key is one field name to look for (its Name; Path is not used here). A
// dotted name ("trace.id") matches a flat field of that name and the same
// path through nested objects; CaseInsensitive makes the name match in
// any letter case, as HTTP header names (traceparent, b3, uber-trace-id,
// X-B3-*) do.
type Key = jsonscan.Key

// Matcher holds the names to find: the JSON scanner's compiled key set,
// also used to walk attribute maps. It is built once and is safe for
// concurrent use; Slots has one entry per name, in order.
type Matcher struct {
	fields *jsonscan.Fields
	root   jsonscan.Cursor
}

// NewMatcher returns a Matcher for keys (at most MaxKeys, the rest ignored).
func NewMatcher(keys []Key) *Matcher {
	f := jsonscan.NewFields(keys, maxDepth)
	return &Matcher{fields: f, root: f.Root()}
}

// Len is the number of keys, the length a result slice must have.
func (m *Matcher) Len() int { return m.fields.Len() }

// Path is a field path from the root of an object, one element per level.
// It is a fixed-size value so that building it never allocates.
type Path struct {
	seg [maxDepth]string
	n   int
}

// Push returns p with name appended, and false when p is full.
func (p Path) Push(name string) (Path, bool) {
	if p.n >= maxDepth {
		return p, false
	}
	p.seg[p.n] = name
	p.n++
	return p, true
}

// walk steps the key set through p: the cursor below p, and the keys that
// name p itself.
func (m *Matcher) walk(p Path) (jsonscan.Cursor, uint64) {
	c := m.root
	var hit uint64
	for i := 0; i < p.n; i++ {
		if !c.Wants(p.seg[i]) {
			return jsonscan.Cursor{}, 0
		}
		c, hit = m.fields.Step(c, p.seg[i])
	}
	return c, hit
}

// Match returns the index of the first key that path names, or -1.
func (m *Matcher) Match(p Path) int {
	var hit uint64
	if p.n == 1 { // the common case: a top-level attribute or field
		if !m.root.Wants(p.seg[0]) {
			return -1
		}
		_, hit = m.fields.Step(m.root, p.seg[0])
	} else {
		_, hit = m.walk(p)
	}
	if hit != 0 {
		return bits.TrailingZeros64(hit)
	}
	return -1
}

// IsPrefix reports whether some key names a field below path p, so that a
// nested object at p is worth descending into.
//
// It is kept out of line: inlined into a loop over an attribute map (the
// correlation processor's), the Path it takes by value makes every
// iteration of that loop slower, nested maps or not (1.7x on two
// attributes).
//
//go:noinline
func (m *Matcher) IsPrefix(p Path) bool {
	if p.n >= maxDepth {
		return false
	}
	c, _ := m.walk(p)
	return c.Alive()
}
