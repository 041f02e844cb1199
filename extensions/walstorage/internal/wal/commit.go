package wal

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// maxKeptBuf bounds the group buffers kept for reuse: a rare huge batch
// does not pin its buffer for ever.
const maxKeptBuf = 4 << 20

// maxKeptRecs bounds the record lists kept for reuse likewise.
const maxKeptRecs = 4096

// group is the records of the batches that are written together.
type group struct {
	buf     []byte
	recs    []pendingRec
	batches int
	done    bool
	err     error
}

// pendingRec is one encoded record waiting to be applied to the index once
// its group is on disk.
type pendingRec struct {
	kind     byte
	client   *clientState
	key      string
	off      int // of the record in the group's buffer
	valueOff int // of the value in the record
	vlen     int
	rsize    int
	// For a compaction move: the location the key must still be at.
	moveFrom *segment
	moveOff  int64
}

// commit waits until the group g (which the caller's records were encoded
// into) is written and applied, leading the write itself when no one else
// does. The caller holds w.mu.
func (w *WAL) commit(g *group) error {
	for !g.done {
		if !w.leader {
			w.lead()
			continue
		}
		w.cond.Wait()
	}
	return g.err
}

// lead writes the filling group. The caller holds w.mu; lead releases it
// during the write and holds it again on return.
func (w *WAL) lead() {
	w.leader = true
	g := w.filling
	w.filling = &group{buf: w.takeBuf(), recs: w.takeRecs()}
	w.writeGroup(g)
	w.leader = false
	w.cond.Broadcast()
}

// writeGroup writes g into the active segment (rotating first when it does
// not fit), fsyncs with FsyncAlways, and applies its records to the index.
// The caller holds w.mu and leadership; the lock is released for the I/O.
func (w *WAL) writeGroup(g *group) {
	var written *segment
	var writtenAt int64
	defer func() { w.releaseGroup(g, written, writtenAt) }()
	if len(g.buf) == 0 {
		return
	}
	seg, err := w.segmentFor(len(g.buf))
	if err != nil {
		g.err = w.writeError(err)
		return
	}
	base := seg.size
	w.mu.Unlock()
	if w.testHookWrite != nil {
		w.testHookWrite()
	}
	start := time.Now()
	n, err := seg.f.WriteAt(g.buf, base)
	wrote := time.Since(start)
	var synced time.Duration
	if err == nil && w.opts.Fsync == FsyncAlways {
		t := time.Now()
		err = syscall.Fdatasync(seg.fd)
		synced = time.Since(t)
	}
	w.obs.Wrote(wrote, len(g.buf), g.batches)
	if synced > 0 {
		w.obs.Synced(synced)
	}
	w.mu.Lock()
	w.counters.Groups++
	w.counters.Batches += int64(g.batches)
	if synced > 0 {
		w.counters.Syncs++
	}
	if err != nil {
		// Take back whatever part was written (WriteAt's count is not
		// reliable after an error), so that the next group starts on a
		// record boundary; if even that fails, start a new segment.
		if terr := seg.f.Truncate(base); terr != nil {
			w.obs.Failed("truncate after a failed write", terr)
			seg.size = w.opts.SegmentSize + 1
			w.diskBytes += int64(n)
		}
		g.err = w.writeError(err)
		return
	}
	written, writtenAt = seg, base
	seg.size += int64(len(g.buf))
	seg.dirty = w.opts.Fsync != FsyncAlways
	w.diskBytes += int64(len(g.buf))
	for i := range g.recs {
		w.applyPending(&g.recs[i], seg, base)
	}
}

// segmentFor returns the segment a group of n bytes goes into: the active
// one, or a new one when it would not fit (unless the active one holds
// nothing yet). The caller holds w.mu and leadership; the lock is released
// while a new file is made.
func (w *WAL) segmentFor(n int) (*segment, error) {
	seg := w.active
	if seg.size+int64(n) <= w.opts.SegmentSize || seg.size <= seg.dataStart {
		return seg, nil
	}
	w.mu.Unlock()
	next, err := w.newSegment()
	free := statfsFree(w.opts.Dir)
	w.mu.Lock()
	w.freeDisk = free
	if err != nil {
		return nil, err
	}
	w.syncSealedLater(seg)
	w.installActive(next)
	return next, nil
}

// releaseGroup marks g done and recycles its buffers: a written buffer
// goes to the tail cache (which hands back what it evicts).
func (w *WAL) releaseGroup(g *group, written *segment, at int64) {
	w.pendingBytes -= int64(len(g.buf))
	if written != nil && len(g.buf) > 0 {
		for _, b := range w.tail.add(written, at, g.buf) {
			w.keepBuf(b)
		}
	} else {
		w.keepBuf(g.buf)
	}
	g.buf = nil
	if cap(g.recs) <= maxKeptRecs && len(w.freeRecs) < 4 {
		clear(g.recs)
		w.freeRecs = append(w.freeRecs, g.recs[:0])
	}
	g.recs = nil
	g.done = true
}

// applyPending applies one written record to the index.
func (w *WAL) applyPending(r *pendingRec, seg *segment, base int64) {
	recOff := base + int64(r.off)
	switch r.kind {
	case kindSet:
		if r.moveFrom != nil {
			if e, ok := r.client.keys[r.key]; !ok || e.seg != r.moveFrom || e.off != r.moveOff {
				// Cannot happen while compaction holds leadership from
				// reading to writing; the copy is dead on arrival.
				return
			}
		}
		w.applySet(r.client, r.key, seg, recOff, r.valueOff, r.vlen, r.rsize)
	case kindDelete:
		w.applyDelete(r.client, r.key, seg)
	}
}

// writeError turns a failed write into what Batch returns: a *FullError
// for a full disk (retryable), the error with context otherwise.
func (w *WAL) writeError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		w.obs.Refused(RefusedDiskFull)
		return &FullError{Reason: RefusedDiskFull, RetryAfter: w.drain.retryAfter(0), Err: err,
			msg: fmt.Sprintf("wal storage in %s: the disk is full (%v); the batch was not written", w.opts.Dir, err)}
	}
	return fmt.Errorf("wal storage in %s: write failed: %w", w.opts.Dir, err)
}

// syncSealedLater remembers that a sealed segment still has data to fsync
// (the background does it); FsyncAlways has none.
func (w *WAL) syncSealedLater(seg *segment) {
	if seg.dirty && w.opts.Fsync != FsyncNever {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// keepBuf keeps a group buffer for reuse, a few and not too large.
func (w *WAL) keepBuf(b []byte) {
	if b != nil && cap(b) <= maxKeptBuf && len(w.freeBufs) < 4 {
		w.freeBufs = append(w.freeBufs, b[:0])
	}
}

func (w *WAL) takeRecs() []pendingRec {
	if n := len(w.freeRecs); n > 0 {
		r := w.freeRecs[n-1]
		w.freeRecs = w.freeRecs[:n-1]
		return r
	}
	return nil
}

func (w *WAL) takeBuf() []byte {
	if n := len(w.freeBufs); n > 0 {
		b := w.freeBufs[n-1]
		w.freeBufs = w.freeBufs[:n-1]
		return b
	}
	return nil
}
