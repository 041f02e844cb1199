package wal

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Bounds of the retry delay a refusal suggests.
const (
	minRetryAfter     = time.Second
	maxRetryAfter     = 30 * time.Second
	stalledRetryAfter = 5 * time.Second
)

// maintain is the WAL's background goroutine: the interval fsync, removal
// of dead segments, the free-space probe and compaction.
func (w *WAL) maintain() {
	defer close(w.done)
	period := time.Second
	if w.opts.Fsync == FsyncInterval {
		period = min(period, w.opts.FsyncInterval)
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	lastSync, lastCompact, lastProbe := time.Now(), time.Now(), time.Now()
	for {
		var now time.Time
		select {
		case <-w.stop:
			return
		case <-w.wake:
			now = time.Now()
		case now = <-tick.C:
		}
		if w.opts.Fsync == FsyncInterval && now.Sub(lastSync) >= w.opts.FsyncInterval {
			w.syncDirty(false)
			lastSync = now
		} else if w.opts.Fsync == FsyncInterval {
			w.syncDirty(true) // sealed segments: do not wait for the interval
		}
		if w.removeDead() || now.Sub(lastProbe) >= time.Second {
			w.refreshFree()
			w.mu.Lock()
			w.drain.update(now)
			w.mu.Unlock()
			lastProbe = now
		}
		if ci := w.opts.Compaction.Interval; ci > 0 && now.Sub(lastCompact) >= ci {
			w.compactPass()
			lastCompact = time.Now()
		}
	}
}

// syncDirty fsyncs every segment written since its last fsync (only the
// sealed ones when sealedOnly).
func (w *WAL) syncDirty(sealedOnly bool) {
	w.mu.Lock()
	var dirty []*segment
	for _, s := range w.segs {
		if s.dirty && (!sealedOnly || s.sealed) {
			s.dirty = false
			dirty = append(dirty, s)
		}
	}
	w.mu.Unlock()
	for _, s := range dirty {
		start := time.Now()
		if err := syscall.Fdatasync(s.fd); err != nil {
			w.obs.Failed("fsync", fmt.Errorf("%s: %w", s.path, err))
			w.mu.Lock()
			s.dirty = true
			w.mu.Unlock()
			continue
		}
		d := time.Since(start)
		w.obs.Synced(d)
		w.mu.Lock()
		w.counters.Syncs++
		w.mu.Unlock()
	}
}

// removeDead deletes the files of segments with nothing live left, after
// an fsync of everything written: the records that made them dead must be
// on disk before the records they replace go. It reports whether it
// removed any.
func (w *WAL) removeDead() bool {
	removed := false
	for {
		w.mu.Lock()
		n := len(w.removable)
		w.mu.Unlock()
		if n == 0 {
			return removed
		}
		w.syncDirty(false)
		w.mu.Lock()
		list := w.removable
		w.removable = nil
		var gone []*segment
		for _, s := range list {
			s.queued = false
			if s.live > 0 || s.needed > 0 || s == w.active || s.removed {
				continue
			}
			w.forget(s)
			w.counters.SegmentsRemoved++
			gone = append(gone, s)
		}
		w.mu.Unlock()
		for _, s := range gone {
			if err := s.f.Close(); err != nil {
				w.obs.Failed("close segment", fmt.Errorf("%s: %w", s.path, err))
			}
			if err := os.Remove(s.path); err != nil {
				w.obs.Failed("remove segment", fmt.Errorf("%s: %w", s.path, err))
			}
			w.obs.SegmentRemoved()
			removed = true
		}
	}
}

// refreshFree reads the filesystem's free space for admission.
func (w *WAL) refreshFree() {
	free := statfsFree(w.opts.Dir)
	w.mu.Lock()
	w.freeDisk = free
	w.mu.Unlock()
}

// statfsFree is the free space of dir's filesystem for unprivileged
// users, or -1 when it cannot be read.
func statfsFree(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * st.Bsize
}

// admit refuses a batch of size bytes that adds keys when the log or the
// filesystem is full. The caller holds w.mu.
func (w *WAL) admit(size int) error {
	after := w.diskBytes + w.pendingBytes + int64(size)
	if w.opts.MaxSize > 0 && after > w.opts.MaxSize {
		w.obs.Refused(RefusedMaxSize)
		d := w.drain.retryAfter(after - w.opts.MaxSize)
		return &FullError{Reason: RefusedMaxSize, RetryAfter: d, msg: fmt.Sprintf(
			"wal storage in %s is full: %d of max_size %d bytes in use and no key can be added until the queue drains (retry in %s; raise max_size_mib if the backlog is expected)",
			w.opts.Dir, w.diskBytes+w.pendingBytes, w.opts.MaxSize, d)}
	}
	if w.freeDisk >= 0 {
		// The active segment's space is preallocated; what does not fit in
		// it takes whole new segments from the filesystem. A batch that fits
		// is still refused when the next segment would cut into the
		// reserve: the log is full until space returns, not now and then.
		newSegs := int64(1)
		if over := w.pendingBytes + int64(size) - (w.opts.SegmentSize - w.active.size); over > 0 {
			newSegs = max(newSegs, (over+w.opts.SegmentSize-1)/w.opts.SegmentSize)
		}
		if short := w.opts.ReserveFree - (w.freeDisk - newSegs*w.opts.SegmentSize); short > 0 {
			w.obs.Refused(RefusedDiskReserve)
			d := w.drain.retryAfter(short)
			return &FullError{Reason: RefusedDiskReserve, RetryAfter: d, msg: fmt.Sprintf(
				"wal storage in %s: the disk has %d bytes free, under the %d bytes kept to drain the queue; no key can be added (retry in %s; free disk space or lower max_size_mib)",
				w.opts.Dir, w.freeDisk, w.opts.ReserveFree, d)}
		}
	}
	return nil
}

// drainRate estimates how fast live bytes are freed (deleted or
// overwritten), for the retry delay of a refusal.
type drainRate struct {
	freed int64   // since last
	rate  float64 // bytes per second, smoothed
	last  time.Time
}

func (d *drainRate) update(now time.Time) {
	if d.last.IsZero() {
		d.last, d.freed = now, 0
		return
	}
	dt := now.Sub(d.last).Seconds()
	if dt <= 0 {
		return
	}
	d.rate = 0.5*d.rate + 0.5*float64(d.freed)/dt
	d.freed, d.last = 0, now
}

// retryAfter is when need bytes should have been freed at the current
// rate, within [1s, 30s]; 5s when nothing drains.
func (d *drainRate) retryAfter(need int64) time.Duration {
	if d.rate < 1 {
		return stalledRetryAfter
	}
	t := time.Duration(float64(need) / d.rate * float64(time.Second))
	return min(max(t, minRetryAfter), maxRetryAfter)
}
