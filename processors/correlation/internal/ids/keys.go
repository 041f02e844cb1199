package ids

// MaxKeys bounds the number of names a Matcher looks for.
const MaxKeys = 64

// maxDepth bounds how deep nested objects are followed (trace.trace, dd.trace_id).
const maxDepth = 4

// Key is one field name to look for. A dotted name ("trace.id") matches a
// flat field of that name and the same path through nested objects.
type Key struct {
	Name string
	// CaseInsensitive makes the name match in any letter case, as HTTP
	// header names (traceparent, b3, uber-trace-id, X-B3-*) do.
	CaseInsensitive bool
}

// Matcher holds the names to find. It is built once and is safe for
// concurrent use; Slots has one entry per name, in order.
type Matcher struct {
	keys []Key
	// flat[c] has bit n set when some key name of length n (< 64) starts
	// with the byte c (both cases for case-insensitive keys): a one-level
	// path that no bit admits matches no key, the common case for the
	// fields of a log body, which is then rejected without comparing.
	flat [256]uint64
	// unfiltered: some key name is empty or too long for flat.
	unfiltered bool
}

// NewMatcher returns a Matcher for keys (at most MaxKeys, the rest ignored).
func NewMatcher(keys []Key) *Matcher {
	if len(keys) > MaxKeys {
		keys = keys[:MaxKeys]
	}
	m := &Matcher{keys: append([]Key(nil), keys...)}
	for _, k := range m.keys {
		if k.Name == "" || len(k.Name) >= 64 {
			m.unfiltered = true
			continue
		}
		c, bit := k.Name[0], uint64(1)<<len(k.Name)
		m.flat[c] |= bit
		if k.CaseInsensitive {
			m.flat[lower(c)] |= bit
			m.flat[upper(c)] |= bit
		}
	}
	return m
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Len is the number of keys, the length a result slice must have.
func (m *Matcher) Len() int { return len(m.keys) }

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

// Match returns the index of the first key that path names, or -1.
func (m *Matcher) Match(p Path) int {
	if p.n == 1 && !m.unfiltered {
		s := p.seg[0]
		if len(s) == 0 || len(s) >= 64 || m.flat[s[0]]&(uint64(1)<<len(s)) == 0 {
			return -1
		}
	}
	for i := range m.keys {
		if rest, ok := consumePath(m.keys[i], p); ok && rest == "" {
			return i
		}
	}
	return -1
}

// IsPrefix reports whether some key names a field below path p, so that a
// nested object at p is worth descending into.
func (m *Matcher) IsPrefix(p Path) bool {
	if p.n >= maxDepth {
		return false
	}
	for i := range m.keys {
		if rest, ok := consumePath(m.keys[i], p); ok && len(rest) > 1 && rest[0] == '.' {
			return true
		}
	}
	return false
}

// consumePath matches the path segments, joined by '.', against the start
// of the key name and returns what is left of the name.
func consumePath(k Key, p Path) (string, bool) {
	name := k.Name
	for i := 0; i < p.n; i++ {
		if i > 0 {
			if len(name) == 0 || name[0] != '.' {
				return "", false
			}
			name = name[1:]
		}
		s := p.seg[i]
		if len(name) < len(s) || !equalName(name[:len(s)], s, k.CaseInsensitive) {
			return "", false
		}
		name = name[len(s):]
	}
	return name, true
}

func equalName(a, b string, fold bool) bool {
	if !fold {
		return a == b
	}
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
