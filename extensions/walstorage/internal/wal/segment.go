package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// segmentExt is the suffix of segment files; quarantinedExt is appended to
// a segment moved aside.
const (
	segmentExt     = ".wal"
	quarantinedExt = ".corrupt"
)

// segment is one file of the log and the index's accounting of it.
type segment struct {
	id   uint64
	path string
	f    *os.File
	fd   int
	size int64 // bytes of data: the next record goes here
	// dataStart is where the first record after the header and the client
	// definitions goes: a segment holding nothing past it is not rotated.
	dataStart int64

	live      int   // live set records
	liveBytes int64 // their encoded size
	// needed counts tombstones here that still hide a record in an older
	// segment that is present; the segment stays while it is positive.
	needed int
	// shadowedBy are the newer segments holding tombstones that hide
	// records of this one, with how many each.
	shadowedBy []pin

	sealed  bool // no longer the active segment
	removed bool
	queued  bool // waiting in WAL.removable
	dirty   bool // written since the last fsync

	lastPassLive int // live at the previous compaction pass (-1: never seen)
	// deadEpoch is WAL.syncEpoch when live last fell to 0: the segment may
	// go (fsync interval) once a full fsync after it completed.
	deadEpoch uint64
}

type pin struct {
	seg *segment
	n   int
}

func segmentName(id uint64) string { return fmt.Sprintf("%016x%s", id, segmentExt) }

// parseSegmentName returns the id of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(base) != 16 {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 16, 64)
	return id, err == nil && id > 0
}

// listSegments returns the ids of the segment files in dir, oldest first,
// and the highest id seen, moved-aside files included, so that a new
// segment never takes the name of an old one.
func listSegments(dir string) ([]uint64, uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("read wal directory %q: %w", dir, err)
	}
	var ids []uint64
	var highest uint64
	for _, e := range entries {
		name := e.Name()
		quarantined := strings.HasSuffix(name, quarantinedExt)
		id, ok := parseSegmentName(strings.TrimSuffix(name, quarantinedExt))
		if !ok {
			continue
		}
		highest = max(highest, id)
		if !quarantined && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, highest, nil
}

// newSegment creates the next segment file with its magic and the
// definitions of every known client, preallocating SegmentSize bytes so
// that appends into it do not fail for space. The caller installs it.
func (w *WAL) newSegment() (*segment, error) {
	w.mu.Lock()
	id := w.nextSeg
	w.nextSeg++
	buf := append(make([]byte, 0, 256), segmentMagic...)
	for name, cid := range w.names {
		buf, _ = appendRecord(buf, kindClient|flagFirst, cid, name, nil)
	}
	w.mu.Unlock()

	path := filepath.Join(w.opts.Dir, segmentName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create wal segment: %w", err)
	}
	// Reserve the space now: a full disk then refuses a new segment, not
	// a write into the current one. Filesystems without fallocate skip it.
	if err := syscall.Fallocate(int(f.Fd()), 1 /* FALLOC_FL_KEEP_SIZE */, 0, w.opts.SegmentSize); err != nil &&
		err != syscall.EOPNOTSUPP && err != syscall.ENOSYS {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create wal segment %s: %w", path, err)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create wal segment %s: %w", path, err)
	}
	if w.opts.Fsync != FsyncNever {
		// The file's directory entry must survive a node crash too.
		if err := syncDir(w.opts.Dir); err != nil {
			w.obs.Failed("fsync directory", err)
		}
	}
	return &segment{id: id, path: path, f: f, fd: int(f.Fd()), size: int64(len(buf)), dataStart: int64(len(buf)),
		dirty: true, lastPassLive: -1}, nil
}

// installActive makes seg the active segment, sealing the previous one.
// The caller holds w.mu.
func (w *WAL) installActive(seg *segment) {
	w.segs[seg.id] = seg
	w.diskBytes += seg.size
	if old := w.active; old != nil {
		old.sealed = true
		w.checkRemovable(old)
	}
	w.active = seg
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// quarantine moves an unreadable segment aside so that the next start does
// not trip over it again, and reports it once.
func (w *WAL) quarantine(path string, size int64, why error) {
	detail := fmt.Sprintf("%v; moved aside to %s%s", why, filepath.Base(path), quarantinedExt)
	if err := os.Rename(path, path+quarantinedExt); err != nil {
		detail = fmt.Sprintf("%v; could not move it aside (%v), skipped", why, err)
	}
	w.obs.Corrupted(Corruption{Kind: UnreadableSegment, Segment: path, Count: 1, Bytes: size, Detail: detail})
}
