package wal

import (
	"fmt"
	"os"
	"slices"
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
		if w.opts.Fsync == FsyncInterval {
			if now.Sub(lastSync) >= w.opts.FsyncInterval {
				w.syncDirty(false)
				lastSync = now
			} else {
				w.syncDirty(true) // sealed segments: do not wait for the interval
			}
		}
		removed := w.removeSegments(w.takeRemovable())
		if removed || now.Sub(lastProbe) >= time.Second {
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
// sealed ones when sealedOnly). A full pass that succeeds makes durable
// everything applied before it started: syncedEpoch says so.
func (w *WAL) syncDirty(sealedOnly bool) {
	w.mu.Lock()
	epoch := w.syncEpoch
	if !sealedOnly {
		w.syncEpoch++
		epoch = w.syncEpoch
	}
	failed := false
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
			failed = true
			continue
		}
		d := time.Since(start)
		w.obs.Synced(d)
		w.mu.Lock()
		w.counters.Syncs++
		w.mu.Unlock()
	}
	if !sealedOnly && !failed {
		w.mu.Lock()
		w.syncedEpoch = epoch
		w.mu.Unlock()
	}
}

// takeRemovable takes the segments queued for removal.
func (w *WAL) takeRemovable() []*segment {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.removable
	w.removable = nil
	for _, s := range list {
		s.queued = false
	}
	return list
}

// removeSegments deletes the files of segments with nothing live left, and
// then those that became removable because of it. With fsync interval, a
// segment goes only once what made it dead was fsynced (a node crash then
// cannot lose both); never promises nothing on a node crash, and always
// fsynced it before it was applied. It reports whether it removed any.
func (w *WAL) removeSegments(list []*segment) bool {
	removed := false
	for len(list) > 0 {
		w.mu.Lock()
		var gone []*segment
		for _, s := range list {
			if s.live > 0 || s.needed > 0 || !s.sealed || s.removed {
				continue
			}
			if w.opts.Fsync == FsyncInterval && s.deadEpoch >= w.syncedEpoch {
				s.queued = true // after the next fsync
				w.removable = append(w.removable, s)
				continue
			}
			w.forget(s) // may queue the segments whose tombstones it needed
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
		list = w.takeNewlyRemovable(list)
	}
	return removed
}

// takeNewlyRemovable takes the segments queued for removal that were not
// in the list just processed (those wait for the next fsync).
func (w *WAL) takeNewlyRemovable(processed []*segment) []*segment {
	w.mu.Lock()
	defer w.mu.Unlock()
	var next, wait []*segment
	for _, s := range w.removable {
		if slices.Contains(processed, s) {
			wait = append(wait, s)
		} else {
			s.queued = false
			next = append(next, s)
		}
	}
	w.removable = wait
	return next
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
