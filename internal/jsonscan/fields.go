// Package jsonscan is obsd's one JSON field scanner: it finds the values of
// a set of fields in the text of a JSON object in one pass, without
// building the document, without allocating and without recursion beyond
// the fields asked for. The correlation processor reads trace ids out of
// log bodies with it, and the log SLIs read body fields.
//
// A Fields value is the compiled set of keys (field names or paths) a
// caller looks for, built once and shared; Scan walks one object and
// reports, for every key, the first field it names. One Scan answers every
// key of the set, so callers that need several fields of one record read
// it once.
//
// Two modes: Strict follows RFC 8259 and reports every syntax error (the
// log SLIs count such bodies as malformed); Lenient tolerates what loggers
// write that is almost JSON (NaN, bare words, unvalidated containers) and
// keeps what it found before an error it cannot get past (the correlation
// processor lifts ids from such lines).
//
// One pass for several consumers: build one Fields from all their keys
// (at most MaxKeys), remember which key indexes are whose, and let the
// FoundFunc hand each consumer its values; what a consumer takes (its
// first-wins rule) is what the FoundFunc returns for its keys. The mode
// is per Scan, so consumers sharing a pass share its mode; a Strict
// consumer keeps the values found before an error (they are reported
// only once the delimiter after them is read).
package jsonscan

import (
	"math/bits"
	"slices"
)

// MaxKeys bounds the keys of one Fields (one bit each in a uint64).
const MaxKeys = 64

// Key is one field to look for.
type Key struct {
	// Name is a dotted field name. A dot is either a nesting level or part
	// of a key, as the document has it: "trace.id" names the field "id" of
	// an object "trace", and also a flat field "trace.id" (and any mix,
	// such as field "c" of an object "a.b" for "a.b.c").
	Name string
	// Path, when set, names the field level by level and Name is
	// ignored: ["req", "path"] is the field "path" of the object "req",
	// never a flat field "req.path". Only the first object on the path
	// counts: when it has no such field, later objects of the same name
	// (duplicate keys) are not searched.
	Path []string
	// CaseInsensitive makes the name match in any ASCII letter case, as
	// HTTP header names (traceparent, X-B3-TraceId) do.
	CaseInsensitive bool
}

// Fields is a compiled set of keys. It is immutable and safe for
// concurrent use.
type Fields struct {
	keys []Key
	// all has one bit per key; pathKeys the bits of keys given by Path.
	all, pathKeys uint64
	// rootLens is Root's Cursor.lens.
	rootLens uint64
	// maxLevels, when above zero, is the deepest level a field may be at
	// (1 for the top-level fields).
	maxLevels int
	// first[slot(c, n)] holds the keys whose first level can be a field
	// name of length n (1 to 63) starting with byte c (either case for a
	// case-insensitive key): a top-level field whose slot holds no alive
	// key, the common case for the fields of a log body, is passed over
	// without comparing, and one that does is compared with those keys
	// only. nil: some first level is empty or too long for the table.
	first *[256]uint64
}

// NewFields compiles keys (at most MaxKeys; the rest are ignored). A
// maxLevels above zero is the deepest nesting level a field may be found
// at (1: top-level fields only); objects deeper are not searched.
func NewFields(keys []Key, maxLevels int) *Fields {
	if len(keys) > MaxKeys {
		keys = keys[:MaxKeys]
	}
	f := &Fields{keys: make([]Key, len(keys)), maxLevels: maxLevels, first: new([256]uint64)}
	for i, k := range keys {
		for _, n := range firstLevelLengths(k) {
			f.rootLens |= lenBit(n)
		}
		k.Path = slices.Clone(k.Path)
		f.keys[i] = k
		f.all |= 1 << uint(i)
		if k.Path != nil {
			f.pathKeys |= 1 << uint(i)
		}
		for _, n := range firstLevelLengths(k) {
			if n == 0 || n >= 64 {
				f.first = nil
				break
			}
			if f.first != nil {
				c, bit := k.firstByte(), uint64(1)<<uint(i)
				f.first[slot(c, n)] |= bit
				if k.CaseInsensitive {
					f.first[slot(lower(c), n)] |= bit
					f.first[slot(upper(c), n)] |= bit
				}
			}
		}
	}
	return f
}

// firstLevelLengths are the lengths a top-level field name naming k can
// have: the first path element, or for a dotted name every prefix that
// ends before a dot and the whole name.
func firstLevelLengths(k Key) []int {
	if k.Path != nil {
		if len(k.Path) == 0 {
			return []int{0}
		}
		return []int{len(k.Path[0])}
	}
	var out []int
	for i := 0; i < len(k.Name); i++ {
		if k.Name[i] == '.' {
			out = append(out, i)
		}
	}
	return append(out, len(k.Name))
}

// slot spreads (first byte, length) pairs over the 256 entries of
// Fields.first; pairs that share a slot only cost a comparison.
func slot(c byte, n int) byte { return c + byte(n)*67 }

func (k *Key) firstByte() byte {
	if k.Path != nil {
		return k.Path[0][0]
	}
	return k.Name[0]
}

// Len is the number of keys; key i is bit i of the sets Scan reports.
func (f *Fields) Len() int { return len(f.keys) }

// Cursor is a position in the tree of field names: the keys that still
// name a field below the object it stands for. It is a small value;
// stepping never allocates.
type Cursor struct {
	alive uint64
	// lens has lenBit(n) set when an alive key can name a field of
	// length n here: Wants turns other names away without a call.
	lens uint64
	// off is how much of a dotted name the levels so far consumed (their
	// lengths and the dots between them); level is how many levels.
	off, level int
}

// Root is the cursor of the top-level object: every key is alive.
func (f *Fields) Root() Cursor { return Cursor{alive: f.all, lens: f.rootLens} }

// lenBit is the bit of Cursor.lens for a name of length n; names of 63
// bytes and more share the last bit.
func lenBit(n int) uint64 { return 1 << uint(min(n, 63)) }

// Wants reports whether a field name of this length may name a key at
// the cursor; when it does not, Step would find nothing. It is cheap
// enough to call before Step for every field.
func (c Cursor) Wants(name string) bool { return c.lens&lenBit(len(name)) != 0 }

// Alive reports whether some key names a field below the cursor, so that
// an object there is worth reading into.
func (c Cursor) Alive() bool { return c.alive != 0 }

// Step moves from the object at c to its field name: next is the cursor
// of an object held by that field, and hit the set of keys that name the
// field itself (bit i: key i).
func (f *Fields) Step(c Cursor, name string) (next Cursor, hit uint64) {
	alive := c.alive
	if c.level == 0 && f.first != nil {
		if len(name) == 0 || len(name) >= 64 {
			return Cursor{}, 0
		}
		alive &= f.first[slot(name[0], len(name))]
	}
	if alive == 0 || (f.maxLevels > 0 && c.level >= f.maxLevels) {
		return Cursor{}, 0
	}
	next = Cursor{off: c.off + len(name) + 1, level: c.level + 1}
	for m := alive; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		k := &f.keys[i]
		if k.Path != nil {
			if c.level >= len(k.Path) || !equalName(k.Path[c.level], name, k.CaseInsensitive) {
				continue
			}
			if c.level+1 == len(k.Path) {
				hit |= 1 << uint(i)
			} else {
				next.alive |= 1 << uint(i)
				next.lens |= lenBit(len(k.Path[c.level+1]))
			}
			continue
		}
		if c.off > len(k.Name) {
			continue
		}
		rest := k.Name[c.off:]
		if len(rest) < len(name) || !equalName(rest[:len(name)], name, k.CaseInsensitive) {
			continue
		}
		switch rest = rest[len(name):]; {
		case rest == "":
			hit |= 1 << uint(i)
		case rest[0] == '.' && len(rest) > 1:
			next.alive |= 1 << uint(i)
			next.lens = ^uint64(0) // any length: a dot may sit in a name
		}
	}
	if f.maxLevels > 0 && next.level >= f.maxLevels {
		next.alive = 0
	}
	return next, hit
}

func equalName(a, b string, fold bool) bool {
	if len(a) != len(b) {
		return false
	}
	if !fold {
		return a == b
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
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
