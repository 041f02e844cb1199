package wal

// clientState is one client's keys: where the live record of each is.
type clientState struct {
	id   uint32
	name string // "" while recovery has not seen the client's definition
	keys map[string]entry
}

// entry locates a key's live record.
type entry struct {
	seg   *segment
	off   int64  // of the value in seg
	vlen  uint32 // value length
	rsize uint32 // encoded record size
	// older are segments, oldest first, that still hold earlier versions
	// of the key, so that a delete knows which files its tombstone must
	// outlive. Nil for a key written once (every queue item).
	older []*segment
}

// applySet makes the record at recOff in seg the key's live value. The
// caller holds w.mu (or is recovering, alone).
func (w *WAL) applySet(c *clientState, key string, seg *segment, recOff int64, valueOff, vlen, rsize int) {
	e, ok := c.keys[key]
	if ok {
		w.kill(e.seg, e.rsize)
		if e.seg != seg {
			e.older = appendOlder(e.older, e.seg)
		}
	}
	e.seg, e.off, e.vlen, e.rsize = seg, recOff+int64(valueOff), uint32(vlen), uint32(rsize)
	seg.live++
	seg.liveBytes += int64(rsize)
	w.liveRecords++
	w.liveBytes += int64(rsize)
	c.keys[key] = e
}

// applyDelete records a tombstone for key written in seg: the live record
// dies, and seg must outlive every older segment holding a version of key.
func (w *WAL) applyDelete(c *clientState, key string, seg *segment) {
	e, ok := c.keys[key]
	if !ok {
		return
	}
	w.kill(e.seg, e.rsize)
	for _, s := range e.older {
		w.pinTombstone(seg, s)
	}
	w.pinTombstone(seg, e.seg)
	delete(c.keys, key)
}

// pinTombstone notes that a tombstone in seg hides a record in older.
func (w *WAL) pinTombstone(seg, older *segment) {
	if older == seg || older.removed {
		return
	}
	seg.needed++
	if n := len(older.shadowedBy); n > 0 && older.shadowedBy[n-1].seg == seg {
		older.shadowedBy[n-1].n++
		return
	}
	older.shadowedBy = append(older.shadowedBy, pin{seg: seg, n: 1})
}

// kill accounts for a live record of seg that was overwritten or deleted.
func (w *WAL) kill(seg *segment, rsize uint32) {
	seg.live--
	seg.liveBytes -= int64(rsize)
	w.liveRecords--
	w.liveBytes -= int64(rsize)
	w.drain.freed += int64(rsize)
	if seg.live == 0 {
		seg.deadEpoch = w.syncEpoch
	}
	w.checkRemovable(seg)
}

// checkRemovable queues seg for removal once it holds nothing live and no
// needed tombstone, and is not the active segment.
func (w *WAL) checkRemovable(seg *segment) {
	if seg.live > 0 || seg.needed > 0 || !seg.sealed || seg.queued || seg.removed {
		return
	}
	seg.queued = true
	w.removable = append(w.removable, seg)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// forget drops seg from the index after its file was deleted: the
// tombstones that hid its records are needed no more. The caller holds w.mu.
func (w *WAL) forget(seg *segment) {
	seg.removed = true
	delete(w.segs, seg.id)
	w.diskBytes -= seg.size
	for _, p := range seg.shadowedBy {
		p.seg.needed -= p.n
		w.checkRemovable(p.seg)
	}
	seg.shadowedBy = nil
}

// appendOlder appends seg to a key's older segments, dropping the ones
// already removed when the list grows.
func appendOlder(older []*segment, seg *segment) []*segment {
	if n := len(older); n > 0 && older[n-1] == seg {
		return older
	}
	if len(older) >= 8 {
		kept := older[:0]
		for _, s := range older {
			if !s.removed {
				kept = append(kept, s)
			}
		}
		older = kept
	}
	return append(older, seg)
}
