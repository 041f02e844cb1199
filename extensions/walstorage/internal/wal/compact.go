package wal

import (
	"fmt"
	"time"
)

// compactChunk is how much of a victim segment one compaction step reads;
// the step holds the write leadership (writers queue behind it) only while
// it checks and copies that much.
const compactChunk = 1 << 20

// compactPass copies the live records of stagnant, mostly dead segments to
// the head of the log so that their files can go, within the pass's byte
// and time budget.
func (w *WAL) compactPass() {
	opts := w.opts.Compaction
	deadline := time.Now().Add(opts.MaxDurationPerPass)
	budget := opts.MaxBytesPerPass
	for budget > 0 && time.Now().Before(deadline) {
		victim, from := w.pickVictim()
		if victim == nil {
			break
		}
		if !w.compactSegment(victim, from, &budget, deadline) {
			break
		}
	}
	w.mu.Lock()
	for _, s := range w.segs {
		s.lastPassLive = s.live
	}
	w.mu.Unlock()
}

// compactCursor is where compaction stopped in a victim when its budget ran
// out, so that the next pass goes on from there.
type compactCursor struct {
	seg *segment
	off int64
}

// pickVictim chooses the sealed segment to compact: the one being compacted
// if unfinished, else the one with the lowest live share among those at
// most MaxLiveRatio live that stopped draining (all of them when the log
// is full). Segments whose tombstones still hide older records wait: the
// oldest segment never has such, so they go in order.
func (w *WAL) pickVictim() (*segment, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	eligible := func(s *segment) bool {
		return s.sealed && !s.removed && !s.queued && s.needed == 0 && s.live > 0 && s.size > 0 &&
			float64(s.liveBytes) <= w.opts.Compaction.MaxLiveRatio*float64(s.size)
	}
	if c := w.cursor; c.seg != nil {
		if eligible(c.seg) || (c.seg.live > 0 && !c.seg.removed) {
			return c.seg, c.off
		}
		w.cursor = compactCursor{}
	}
	pressure := (w.opts.MaxSize > 0 && float64(w.diskBytes) >= 0.9*float64(w.opts.MaxSize)) ||
		(w.freeDisk >= 0 && w.freeDisk < 2*w.opts.ReserveFree)
	var best *segment
	var bestRatio float64
	for _, s := range w.segs {
		if !eligible(s) || (!pressure && s.lastPassLive != s.live) {
			continue
		}
		ratio := float64(s.liveBytes) / float64(s.size)
		if best == nil || ratio < bestRatio || (ratio == bestRatio && s.id < best.id) {
			best, bestRatio = s, ratio
		}
	}
	if best == nil {
		return nil, 0
	}
	return best, int64(segmentHdrSize)
}

// compactSegment copies the live records of victim from offset from on,
// chunk by chunk, until it is done or the budget or deadline runs out. It
// reports whether the pass may go on.
func (w *WAL) compactSegment(victim *segment, from int64, budget *int64, deadline time.Time) bool {
	var chunk []byte
	off := from
	for off < victim.size {
		if *budget <= 0 || time.Now().After(deadline) {
			w.setCursor(victim, off)
			return false
		}
		n := min(int64(compactChunk), victim.size-off)
		if cap(chunk) < int(n) {
			chunk = make([]byte, n)
		}
		chunk = chunk[:n]
		if _, err := victim.f.ReadAt(chunk, off); err != nil {
			w.obs.Failed("compaction read", fmt.Errorf("%s at %d: %w", victim.path, off, err))
			w.setCursor(nil, 0)
			return false
		}
		used, grow := w.compactChunk(victim, off, chunk)
		if grow > 0 { // one record larger than the chunk: read it whole
			chunk = make([]byte, grow)
			if _, err := victim.f.ReadAt(chunk, off); err != nil {
				w.obs.Failed("compaction read", fmt.Errorf("%s at %d: %w", victim.path, off, err))
				w.setCursor(nil, 0)
				return false
			}
			used, _ = w.compactChunk(victim, off, chunk)
		}
		if used < 0 {
			w.setCursor(nil, 0)
			return false
		}
		if used == 0 { // damage the recovery skipped: nothing after it is indexed here
			break
		}
		off += int64(used)
		*budget -= int64(used)
	}
	w.setCursor(nil, 0)
	return true
}

func (w *WAL) setCursor(seg *segment, off int64) {
	w.mu.Lock()
	w.cursor = compactCursor{seg: seg, off: off}
	w.mu.Unlock()
}

// compactChunk copies the live records among the whole records at the
// start of data (read from victim at base) to the head of the log, holding
// the write leadership so that no other write is applied between the check
// and the copy. It returns the bytes consumed (-1 after a failed write, 0
// when data starts with damage), or, when data is too short for its first
// record, that record's size.
func (w *WAL) compactChunk(victim *segment, base int64, data []byte) (used int, grow int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.leader {
		if w.closed {
			return -1, 0
		}
		w.cond.Wait()
	}
	if w.closed {
		return -1, 0
	}
	w.leader = true
	defer func() {
		w.leader = false
		w.cond.Broadcast()
	}()
	g := &group{buf: w.takeBuf()}
	off := 0
	for off < len(data) {
		st, n := checkRecord(data, off)
		if st == headerTorn && off == 0 {
			return 0, headerSize + n
		}
		if st != headerOK {
			break
		}
		r, err := parseBody(data[off+headerSize : off+headerSize+n])
		recOff := base + int64(off)
		off += headerSize + n
		if err != nil || r.kind() != kindSet {
			continue
		}
		c := w.clients[r.client]
		if c == nil {
			continue
		}
		key := string(r.key)
		e, ok := c.keys[key]
		if !ok || e.seg != victim || e.off != recOff+int64(r.valueOff) {
			continue
		}
		start := len(g.buf)
		var valueOff int
		g.buf, valueOff = appendRecord(g.buf, kindSet|flagFirst, c.id, key, r.value)
		g.recs = append(g.recs, pendingRec{kind: kindSet, client: c, key: key, off: start, valueOff: valueOff,
			vlen: len(r.value), rsize: len(g.buf) - start, moveFrom: victim, moveOff: e.off})
		g.batches++
	}
	copied := len(g.buf)
	w.pendingBytes += int64(copied)
	w.writeGroup(g)
	if g.err != nil {
		w.obs.Failed("compaction write", g.err)
		return -1, 0
	}
	if copied > 0 {
		w.counters.Compactions++
		w.counters.CompactedBytes += int64(copied)
		w.obs.Compacted(int64(copied))
	}
	return off, 0
}
