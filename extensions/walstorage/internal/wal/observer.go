package wal

import "time"

// CorruptionKind names what recovery found wrong. The values are the
// `kind` label of obsd_wal_corruptions_total; the set is closed.
type CorruptionKind string

// The kinds of damage recovery repairs or works around.
const (
	// TornTail: the newest data of a segment ends inside a record or a
	// batch (a crash mid-write, or a file cut short); the incomplete part
	// is dropped and, for the last segment, truncated away.
	TornTail CorruptionKind = "torn_tail"
	// BadChecksum: a record whose body fails its CRC32C; it and the rest
	// of its batch are skipped.
	BadChecksum CorruptionKind = "bad_checksum"
	// BadHeader: a damaged record header (or zeroed or garbage bytes in
	// place of records); the reader skips to the next intact record.
	BadHeader CorruptionKind = "bad_header"
	// UnreadableSegment: a segment file that cannot be opened or read, or
	// does not start with the WAL's magic; it is renamed to *.corrupt and
	// left for an operator.
	UnreadableSegment CorruptionKind = "unreadable_segment"
	// UnknownClient: records of a client whose name was lost with a damaged
	// segment; they cannot be handed to anyone and are dropped.
	UnknownClient CorruptionKind = "unknown_client"
)

// CorruptionKinds lists every kind, for pre-registering label values.
var CorruptionKinds = []CorruptionKind{TornTail, BadChecksum, BadHeader, UnreadableSegment, UnknownClient}

// Corruption is one finding of recovery, reported once.
type Corruption struct {
	Kind CorruptionKind
	// Segment is the file concerned (for UnreadableSegment, its name
	// before it was moved aside).
	Segment string
	// Offset is where in the segment the (first) damage starts.
	Offset int64
	// Count is how many separate damaged places of this kind the segment
	// had; they are reported together, once.
	Count int
	// Records is how many records were dropped because of it (the damaged
	// ones and the intact records of their batches).
	Records int
	// Bytes is how many bytes of the segment were skipped or truncated.
	Bytes int64
	// Detail says what was done, for the log.
	Detail string
}

// RefusalReason says why a batch was refused; the values are the `reason`
// label of obsd_wal_refused_batches_total.
type RefusalReason string

// Why a batch adding new keys is refused.
const (
	// RefusedMaxSize: the WAL's files reached max_size.
	RefusedMaxSize RefusalReason = "max_size"
	// RefusedDiskReserve: the filesystem's free space fell under the reserve
	// kept for the writes that drain the WAL.
	RefusedDiskReserve RefusalReason = "disk_reserve"
	// RefusedDiskFull: the write itself failed with ENOSPC (or EDQUOT).
	RefusedDiskFull RefusalReason = "disk_full"
)

// RefusalReasons lists every reason.
var RefusalReasons = []RefusalReason{RefusedMaxSize, RefusedDiskReserve, RefusedDiskFull}

// Observer receives the WAL's events, for metrics and logs. Calls come
// from the goroutine that did the work, never under a lock the Observer
// could deadlock on; they must be cheap and must not call back into the WAL.
type Observer interface {
	// Wrote is one group commit: one write of bytes holding the records of
	// batches Batch calls.
	Wrote(d time.Duration, bytes, batches int)
	// Synced is one fsync.
	Synced(d time.Duration)
	// Corrupted is one finding of recovery.
	Corrupted(c Corruption)
	// Compacted is one compaction step: live bytes copied forward from a
	// segment.
	Compacted(bytes int64)
	// SegmentRemoved is a segment file deleted once nothing in it was live.
	SegmentRemoved()
	// Refused is a batch refused because the WAL or the disk is full.
	Refused(reason RefusalReason)
	// Failed is an I/O error in the background (fsync, removal); the WAL
	// keeps going.
	Failed(op string, err error)
}

type nopObserver struct{}

func (nopObserver) Wrote(time.Duration, int, int) {}
func (nopObserver) Synced(time.Duration)          {}
func (nopObserver) Corrupted(Corruption)          {}
func (nopObserver) Compacted(int64)               {}
func (nopObserver) SegmentRemoved()               {}
func (nopObserver) Refused(RefusalReason)         {}
func (nopObserver) Failed(string, error)          {}
