// Package wal is obsd's write-ahead log: a key-value store for a handful of
// clients, kept as segmented, append-only files of checksummed records with
// an in-memory index, built for the access pattern of a persistent queue
// (every value written once, read once, deleted once; one small metadata key
// overwritten on every operation).
//
//   - Writes are group-committed: concurrent Batch calls, of any client,
//     share one write(2) (and one fsync with FsyncAlways). A Batch is
//     atomic, on disk too: after a crash it is replayed whole or not at all.
//   - Deletes are tombstones; a segment file is removed once nothing in it
//     is live and none of its tombstones still hides a record in an older
//     file. Compaction copies the live records of stagnant, mostly dead
//     segments forward, a bounded number of bytes per pass.
//   - Open always succeeds on a directory it can write: a torn tail is
//     truncated, damaged records are skipped, an unreadable segment is moved
//     aside; each finding is reported once to the Observer.
//   - When the log reaches MaxSize, or the filesystem its reserve, a Batch
//     that would add a key fails with a *FullError; batches that only
//     overwrite or delete keys (what drains a queue) still go through.
//
// The package has no collector imports; the wal_storage extension adapts it
// to the collector's storage API.
package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// FsyncMode says when written data is forced to stable storage.
type FsyncMode int

const (
	// FsyncNever leaves flushing to the kernel. Survives a process crash;
	// a node crash loses what the kernel had not written back.
	FsyncNever FsyncMode = iota
	// FsyncInterval fsyncs in the background every Options.FsyncInterval.
	// Survives a process crash; a node crash loses at most the last interval.
	FsyncInterval
	// FsyncAlways fsyncs before Batch returns (shared by concurrent
	// batches). Survives a process crash and a node crash.
	FsyncAlways
)

// Options configure a WAL. Sizes are in bytes.
type Options struct {
	// Dir holds the segment files; it must exist.
	Dir string
	// SegmentSize is the size at which the active segment is sealed and a
	// new one started (a single group larger than this gets a segment of its
	// own).
	SegmentSize int64
	// MaxSize bounds the total size of the segment files; 0 is unbounded.
	MaxSize int64
	// ReserveFree is the free space the filesystem must keep for the writes
	// that drain the log; below it, batches adding keys are refused.
	ReserveFree int64
	// Fsync and FsyncInterval: see FsyncMode.
	Fsync         FsyncMode
	FsyncInterval time.Duration
	// Compaction bounds the background compaction.
	Compaction CompactionOptions
	// Observer receives events; nil ignores them.
	Observer Observer
}

// CompactionOptions bound compaction in time and I/O.
type CompactionOptions struct {
	// Interval between passes; 0 disables compaction.
	Interval time.Duration
	// MaxLiveRatio: a sealed segment whose live bytes are at most this share
	// of its size is compacted once it stops draining (its live count did
	// not change over a whole interval), or at once when the log is full.
	MaxLiveRatio float64
	// MaxBytesPerPass bounds the bytes read from old segments per pass.
	MaxBytesPerPass int64
	// MaxDurationPerPass bounds the time of one pass.
	MaxDurationPerPass time.Duration
}

// ErrClosed is returned by every operation after Close.
var ErrClosed = errors.New("wal is closed")

// ErrFull is matched (errors.Is) by every *FullError.
var ErrFull = errors.New("wal is full")

// FullError refuses a batch that would add keys to a full log. Nothing of
// the batch was written; it can be retried once the log drains.
type FullError struct {
	Reason RefusalReason
	// RetryAfter estimates when space will be back, from how fast deletes
	// freed live bytes recently.
	RetryAfter time.Duration
	// Err is the underlying write error for RefusedDiskFull.
	Err error
	msg string
}

func (e *FullError) Error() string   { return e.msg }
func (e *FullError) Is(t error) bool { return t == ErrFull }
func (e *FullError) Unwrap() error   { return e.Err }

// WAL is one log directory, shared by its clients.
type WAL struct {
	opts Options
	obs  Observer
	lock *os.File

	mu   sync.Mutex
	cond *sync.Cond // a group was committed or the leader stepped down

	clients map[uint32]*clientState
	names   map[string]uint32
	nextCID uint32

	segs    map[uint64]*segment
	active  *segment
	nextSeg uint64

	// Group commit: batches encode into filling; one goroutine at a time
	// (the leader) writes a group and applies it to the index.
	filling  *group
	leader   bool
	freeBufs [][]byte
	tail     tailCache // recently written groups, for reads
	freeRecs [][]pendingRec

	diskBytes    int64 // bytes in segment files
	pendingBytes int64 // encoded, not yet written
	liveBytes    int64
	liveRecords  int64
	freeDisk     int64 // filesystem free bytes at the last statfs (-1: unknown)
	drain        drainRate

	removable []*segment
	// syncEpoch counts full fsync passes started; syncedEpoch is the last
	// one that completed.
	syncEpoch, syncedEpoch uint64
	orphans                []*clientState // recovered clients without a name
	cursor                 compactCursor
	closed                 bool

	counters counters

	// testHookWrite, when set, runs in the leader before each write,
	// without the lock (tests hold a leader there to form a group).
	testHookWrite func()

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// Open recovers the log in opts.Dir and starts its background work. It
// fails only when the directory cannot be used at all (missing, not
// writable, locked by another process); damage inside it is repaired and
// reported to opts.Observer.
func Open(opts Options) (*WAL, error) {
	if opts.SegmentSize <= 0 {
		return nil, errors.New("wal: segment size must be positive")
	}
	if opts.Fsync == FsyncInterval && opts.FsyncInterval <= 0 {
		return nil, errors.New("wal: fsync interval must be positive")
	}
	w := &WAL{
		opts:     opts,
		obs:      opts.Observer,
		clients:  map[uint32]*clientState{},
		names:    map[string]uint32{},
		segs:     map[uint64]*segment{},
		nextCID:  1,
		nextSeg:  1,
		freeDisk: -1,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if w.obs == nil {
		w.obs = nopObserver{}
	}
	w.cond = sync.NewCond(&w.mu)
	w.filling = &group{}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	w.lock = lock
	if err := w.recover(); err != nil {
		w.closeFiles()
		return nil, err
	}
	seg, err := w.newSegment()
	if err != nil {
		w.closeFiles()
		return nil, err
	}
	w.mu.Lock()
	w.installActive(seg)
	w.mu.Unlock()
	w.deleteAll(w.orphans)
	w.orphans = nil
	w.refreshFree()
	go w.maintain()
	return w, nil
}

// lockDir takes an exclusive lock on dir/LOCK, so that two processes never
// share a log. The kernel drops it when the process dies, even by kill -9.
func lockDir(dir string) (*os.File, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("wal directory %q: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("wal directory %q is not a directory", dir)
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wal directory %q is not writable: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal directory %q is in use by another process (flock LOCK: %w); give each obsd its own directory", dir, err)
	}
	return f, nil
}

// Close commits what is pending, fsyncs (in every mode: a clean shutdown
// loses nothing), stops the background work and releases the directory.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	// Let the leader and any waiting batches finish.
	for w.leader || len(w.filling.buf) > 0 {
		if !w.leader {
			w.lead()
			continue
		}
		w.cond.Wait()
	}
	w.leader = true // no one writes any more
	w.cond.Broadcast()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	var errs []error
	w.mu.Lock()
	for _, s := range w.segs {
		if s.dirty {
			errs = append(errs, s.f.Sync())
			s.dirty = false
		}
	}
	w.mu.Unlock()
	errs = append(errs, w.closeFiles())
	return errors.Join(errs...)
}

func (w *WAL) closeFiles() error {
	var errs []error
	for _, s := range w.segs {
		if s.f != nil {
			errs = append(errs, s.f.Close())
			s.f = nil
		}
	}
	if w.lock != nil {
		errs = append(errs, w.lock.Close())
		w.lock = nil
	}
	return errors.Join(errs...)
}

// Stats is a snapshot of the log's size.
type Stats struct {
	LiveBytes, LiveRecords int64
	DiskBytes              int64
	Segments               int
	Clients                int
}

// Stats returns the current figures.
func (w *WAL) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{LiveBytes: w.liveBytes, LiveRecords: w.liveRecords, DiskBytes: w.diskBytes,
		Segments: len(w.segs), Clients: len(w.names)}
}

// counters are cumulative event counts for tests and Counters.
type counters struct {
	Groups, Batches, Syncs, Compactions, SegmentsRemoved int64
	CompactedBytes                                       int64
}

// Counters returns cumulative counts of group commits, batches, fsyncs,
// compaction steps and removed segments.
func (w *WAL) Counters() (groups, batches, syncs, compactions, removed int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.counters
	return c.Groups, c.Batches, c.Syncs, c.Compactions, c.SegmentsRemoved
}
