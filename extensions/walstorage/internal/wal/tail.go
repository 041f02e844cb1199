package wal

// tailCacheBytes bounds the memory of the tail cache.
const tailCacheBytes = 4 << 20

// tailCache keeps the most recently written groups in memory, so that a
// value read soon after it was written (a queue whose consumers keep up:
// the usual case) is copied from memory instead of read back with a
// syscall. A backlog larger than the cache is read from the files.
type tailCache struct {
	entries []tailEntry // oldest first, from head on
	head    int
	bytes   int
	evicted [][]byte // scratch for add's result
}

type tailEntry struct {
	seg  *segment
	base int64 // file offset of buf[0]
	buf  []byte
}

// add caches buf, written at base in seg, and returns the buffers it
// evicted, for reuse until the next add.
func (t *tailCache) add(seg *segment, base int64, buf []byte) [][]byte {
	clear(t.evicted)
	evicted := t.evicted[:0]
	defer func() { t.evicted = evicted }()
	if cap(buf) > tailCacheBytes {
		return append(evicted, buf)
	}
	t.entries = append(t.entries, tailEntry{seg: seg, base: base, buf: buf})
	t.bytes += cap(buf)
	for t.bytes > tailCacheBytes {
		e := &t.entries[t.head]
		t.bytes -= cap(e.buf)
		evicted = append(evicted, e.buf)
		*e = tailEntry{}
		t.head++
	}
	if t.head > len(t.entries)/2 { // amortized: move the live half down
		n := copy(t.entries, t.entries[t.head:])
		clear(t.entries[n:])
		t.entries, t.head = t.entries[:n], 0
	}
	return evicted
}

// get returns the n bytes at off in seg if they are cached; the caller
// copies them out under the WAL's lock.
func (t *tailCache) get(seg *segment, off int64, n int) ([]byte, bool) {
	for i := len(t.entries) - 1; i >= t.head; i-- {
		e := &t.entries[i]
		if e.seg == seg && off >= e.base && off+int64(n) <= e.base+int64(len(e.buf)) {
			start := off - e.base
			return e.buf[start : start+int64(n)], true
		}
	}
	return nil, false
}
