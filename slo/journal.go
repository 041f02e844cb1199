package slo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// A Batch holds the points of one input batch (the spans, log records or
// metric points of one request) until the request is accepted, so that
// the engine counts exactly what was accepted, and is the unit of the
// write-ahead journal that makes those counts survive a crash between two
// snapshots (checkpoint + WAL, as Prometheus does):
//
//	b.AddEvents(...)            // while reading the request; nothing counted yet
//	e.Begin(b)                  // a journal sequence number
//	rec := b.AppendRecord(nil)  // write rec to the journal with the request
//	... pass the request on ...
//	e.Commit(b, durable)        // accepted: count it; or e.Abort(b): refused
//
// After a crash, RestoreSnapshot (the checkpoint) then Replay of every
// journal record the snapshot does not cover (JournalMark) puts back every
// committed point. Batch methods never allocate once its buffers have
// grown; reuse a Batch with Reset.
type Batch struct {
	ops   []batchOp
	insts []*Instance
	index map[*Instance]uint32
	last  *Instance // the instance of the previous op, skipping the map
	lastI uint32
	// seq and countFrom are set by Begin.
	seq       uint64
	countFrom int64
	began     bool
}

// opKind is what a journaled point is.
type opKind uint8

const (
	opEventGood  opKind = iota // AddEvents(ts, 1, 0): one good span or record
	opEventBad                 // AddEvents(ts, 1, 1)
	opEvents                   // AddEvents(ts, total, bad)
	opCumulative               // AddCumulative
	opDelta                    // AddDelta
	numOpKinds
)

// batchOp is one point of a Batch; inst indexes Batch.insts.
type batchOp struct {
	kind       opKind
	inst       uint32
	hash       uint64
	start, ts  int64
	total, bad float64
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{index: map[*Instance]uint32{}} }

// Reset empties b for reuse (its buffers are kept).
func (b *Batch) Reset() {
	b.ops = b.ops[:0]
	clear(b.insts)
	b.insts = b.insts[:0]
	clear(b.index)
	b.last = nil
	b.seq, b.countFrom, b.began = 0, 0, false
}

// Len is the number of points in b.
func (b *Batch) Len() int { return len(b.ops) }

// Seq is the journal sequence number Begin gave b.
func (b *Batch) Seq() uint64 { return b.seq }

func (b *Batch) instIndex(in *Instance) uint32 {
	if in == b.last && in != nil {
		return b.lastI
	}
	i, ok := b.index[in]
	if !ok {
		i = uint32(len(b.insts))
		b.insts = append(b.insts, in)
		b.index[in] = i
	}
	b.last, b.lastI = in, i
	return i
}

// AddEvents records AddEvents(in, ts, total, bad) for Commit.
func (b *Batch) AddEvents(in *Instance, ts time.Time, total, bad float64) {
	op := batchOp{kind: opEvents, inst: b.instIndex(in), ts: ts.UnixNano(), total: total, bad: bad}
	if total == 1 && bad == 0 {
		op.kind = opEventGood
	} else if total == 1 && bad == 1 {
		op.kind = opEventBad
	}
	b.ops = append(b.ops, op)
}

// AddCumulative records AddCumulative(in, seriesHash, start, ts, total, bad)
// for Commit.
func (b *Batch) AddCumulative(in *Instance, seriesHash uint64, start, ts time.Time, total, bad float64) {
	b.ops = append(b.ops, batchOp{kind: opCumulative, inst: b.instIndex(in), hash: seriesHash,
		start: unixNano(start), ts: ts.UnixNano(), total: total, bad: bad})
}

// AddDelta records AddDelta(in, seriesHash, start, ts, total, bad) for
// Commit.
func (b *Batch) AddDelta(in *Instance, seriesHash uint64, start, ts time.Time, total, bad float64) {
	b.ops = append(b.ops, batchOp{kind: opDelta, inst: b.instIndex(in), hash: seriesHash,
		start: unixNano(start), ts: ts.UnixNano(), total: total, bad: bad})
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Begin gives b the next journal sequence number and registers it as in
// flight: a snapshot taken before Commit or Abort does not cover it.
func (e *Engine) Begin(b *Batch) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	b.seq, b.countFrom, b.began = e.jnext, e.countFrom, true
	e.jnext++
	e.inflight = append(e.inflight, b.seq)
	return b.seq
}

// Commit counts b's points, as Add* would have, in one hold of the lock.
// durable says b's journal record is on disk (or no journal is kept): an
// instance first defined by that record needs no definition in later ones.
func (e *Engine) Commit(b *Batch, durable bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range b.ops {
		o := e.apply(b.insts[b.ops[i].inst], &b.ops[i], b.countFrom)
		e.stats[o]++
	}
	if durable {
		for _, in := range b.insts {
			in.journaled.Store(true)
		}
	}
	e.settle(b)
}

// Abort drops b: its request was refused, nothing of it counts.
func (e *Engine) Abort(b *Batch) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle(b)
}

// settle takes b off the in-flight list; e.mu is held.
func (e *Engine) settle(b *Batch) {
	if !b.began {
		return
	}
	b.began = false
	if i := slices.Index(e.inflight, b.seq); i >= 0 {
		last := len(e.inflight) - 1
		e.inflight[i] = e.inflight[last]
		e.inflight = e.inflight[:last]
	}
}

// apply accounts one point; e.mu is held.
func (e *Engine) apply(in *Instance, op *batchOp, countFrom int64) Outcome {
	switch op.kind {
	case opEventGood:
		return fromAdd(in.acc.add(op.ts, 1, 0), Counted)
	case opEventBad:
		return fromAdd(in.acc.add(op.ts, 1, 1), Counted)
	case opEvents:
		if !valid(op.total, op.bad) {
			return Invalid
		}
		return fromAdd(in.acc.add(op.ts, op.total, op.bad), Counted)
	case opCumulative:
		return e.cumulative(in, op.hash, op.start, op.ts, op.total, op.bad, countFrom)
	default:
		return e.delta(in, op.hash, op.start, op.ts, op.total, op.bad)
	}
}

// JournalMark says which journal records a snapshot already holds: every
// sequence number below Next except those still in flight (Pending) when
// it was taken.
type JournalMark struct {
	Next    uint64   `json:"next"`
	Pending []uint64 `json:"pending,omitempty"`
}

// Covers reports whether the snapshot holds the record numbered seq.
func (m JournalMark) Covers(seq uint64) bool {
	return seq < m.Next && !slices.Contains(m.Pending, seq)
}

// journalVersion is the version of the record format.
const journalVersion = 1

// instance flags in a record.
const (
	instDefined byte = 1 // the group's labels follow
	instCreated byte = 2 // then when the instance began counting (ns, varint)
)

// AppendRecord appends b's journal record (after Begin) to dst. It names
// each SLO by a hash of its name and each instance by its group hash; an
// instance that no durable record defined since the last snapshot also
// carries its group labels and creation time, so Replay can rebuild it as
// it was (counting since its creation, not since the replay). A span or log record
// costs about 4 bytes, a metric point about 30.
func (b *Batch) AppendRecord(dst []byte) []byte {
	dst = append(dst, journalVersion)
	dst = binary.AppendUvarint(dst, b.seq)
	dst = binary.AppendVarint(dst, b.countFrom)
	var base int64
	if len(b.ops) > 0 {
		base = b.ops[0].ts
	}
	dst = binary.AppendVarint(dst, base)
	dst = binary.AppendUvarint(dst, uint64(len(b.insts)))
	for _, in := range b.insts {
		dst = binary.LittleEndian.AppendUint64(dst, in.slo.nameHash)
		dst = binary.LittleEndian.AppendUint64(dst, in.hash)
		// journaled turns true only once a record defining the instance
		// is durable, and false at a snapshot, which holds the instance.
		if in.group == nil || in.overflow || in.journaled.Load() {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, instDefined|instCreated)
		dst = appendGroup(dst, in.group)
		dst = binary.AppendVarint(dst, in.created)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.ops)))
	for i := range b.ops {
		op := &b.ops[i]
		dst = append(dst, byte(op.kind))
		dst = binary.AppendUvarint(dst, uint64(op.inst))
		dst = binary.AppendVarint(dst, op.ts-base)
		switch op.kind {
		case opEvents:
			dst = appendFloat(dst, op.total)
			dst = appendFloat(dst, op.bad)
		case opCumulative, opDelta:
			dst = binary.LittleEndian.AppendUint64(dst, op.hash)
			dst = binary.AppendVarint(dst, op.start)
			dst = appendFloat(dst, op.total)
			dst = appendFloat(dst, op.bad)
		}
	}
	return dst
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// appendGroup appends a group's labels sorted by name (rare: once per new
// instance and snapshot interval, so the sort may allocate).
func appendGroup(dst []byte, g map[string]string) []byte {
	names := make([]string, 0, len(g))
	for k := range g {
		names = append(names, k)
	}
	sort.Strings(names)
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, k := range names {
		dst = appendString(dst, k)
		dst = appendString(dst, g[k])
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// ErrRecord is matched (errors.Is) by the error of a record that cannot
// be decoded.
var ErrRecord = errors.New("invalid slo journal record")

// RecordSeq returns the sequence number of a journal record.
func RecordSeq(rec []byte) (uint64, error) {
	r := reader{b: rec}
	if v := r.byte(); v != journalVersion {
		return 0, fmt.Errorf("%w: version %d, want %d", ErrRecord, v, journalVersion)
	}
	seq := r.uvarint()
	return seq, r.err
}

// ReplayResult is what Replay did with one record.
type ReplayResult struct {
	// Covered: the snapshot already holds the record; nothing was applied.
	Covered bool
	// Applied is the number of points counted again.
	Applied int
	// Unresolved is the number of points dropped because their SLO is no
	// longer declared, or their instance could not be rebuilt.
	Unresolved int
}

// Replay counts a journal record written by a previous run again, unless
// the restored snapshot covers it (see JournalMark). Call it after
// RestoreSnapshot and before feeding data, on the records in sequence
// order. A record that cannot be decoded is refused whole (an error
// matching ErrRecord); it never panics.
func (e *Engine) Replay(rec []byte, now time.Time) (ReplayResult, error) {
	d, err := decodeRecord(rec)
	if err != nil {
		return ReplayResult{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jnext = max(e.jnext, d.seq+1)
	if e.mark.Covers(d.seq) {
		return ReplayResult{Covered: true}, nil
	}
	insts := make([]*Instance, len(d.insts))
	for i := range d.insts {
		insts[i] = e.resolveInstance(&d.insts[i], now)
	}
	var res ReplayResult
	for i := range d.ops {
		op := &d.ops[i]
		in := insts[op.inst]
		if in == nil {
			res.Unresolved++
			continue
		}
		e.apply(in, op, d.countFrom)
		res.Applied++
	}
	return res, nil
}

// resolveInstance finds or rebuilds the instance a record names; nil when its SLO
// is gone or its labels are unknown. e.mu is held.
func (e *Engine) resolveInstance(ri *recordInst, now time.Time) *Instance {
	slo, ok := e.byNameHash[ri.sloHash]
	if !ok {
		return nil
	}
	if in, ok := e.byGroup[groupKey{slo: slo, hash: ri.groupHash}]; ok {
		return in
	}
	d := e.slos[slo]
	grouped := len(d.spec.GroupBy()) > 0
	var group func() map[string]string
	switch {
	case ri.groupHash == OverflowHash && grouped:
		group = e.overflowGroup(slo)
	case ri.group != nil && grouped:
		g := ri.group
		group = func() map[string]string { return g }
	case ri.groupHash == HashSeed && !grouped:
	default:
		return nil
	}
	if group != nil && ri.groupHash != OverflowHash && d.grouped >= d.spec.Limit() {
		// The cap was lowered since: what the instance counted goes to
		// the overflow instance, as new data would.
		if in, ok := e.byGroup[groupKey{slo: slo, hash: OverflowHash}]; ok {
			return in
		}
		return e.instanceLocked(slo, OverflowHash, e.overflowGroup(slo), now.UnixNano())
	}
	// Rebuilt as it was: counting since its creation, not since the replay.
	created := now.UnixNano()
	if ri.created > 0 && ri.created < created {
		created = ri.created
	}
	return e.instanceLocked(slo, ri.groupHash, group, created)
}

// decoded is one decoded record.
type decoded struct {
	seq       uint64
	countFrom int64
	insts     []recordInst
	ops       []batchOp
}

type recordInst struct {
	sloHash, groupHash uint64
	group              map[string]string
	created            int64 // when the instance began counting (ns); 0 unknown
}

// maxRecordCount bounds the instance and point counts a record may claim,
// so a damaged count cannot make decoding allocate without bound.
const maxRecordCount = 1 << 24

func decodeRecord(rec []byte) (*decoded, error) {
	r := reader{b: rec}
	if v := r.byte(); r.err == nil && v != journalVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrRecord, v, journalVersion)
	}
	d := &decoded{seq: r.uvarint(), countFrom: r.varint()}
	base := r.varint()
	n := r.count(17) // each instance takes at least 17 bytes
	d.insts = make([]recordInst, 0, n)
	for range n {
		ri := recordInst{sloHash: r.u64(), groupHash: r.u64()}
		if flags := r.byte(); flags&instDefined != 0 {
			labels := r.count(2)
			ri.group = make(map[string]string, labels)
			for range labels {
				k := r.string()
				ri.group[k] = r.string()
			}
			if flags&instCreated != 0 {
				ri.created = r.varint()
			}
		}
		d.insts = append(d.insts, ri)
	}
	m := r.count(3) // each point takes at least 3 bytes
	d.ops = make([]batchOp, 0, m)
	for range m {
		op := batchOp{kind: opKind(r.byte())}
		op.inst = uint32(r.uvarint())
		op.ts = base + r.varint()
		switch op.kind {
		case opEventGood, opEventBad:
		case opEvents:
			op.total, op.bad = r.float(), r.float()
		case opCumulative, opDelta:
			op.hash, op.start = r.u64(), r.varint()
			op.total, op.bad = r.float(), r.float()
		default:
			r.fail("point kind %d", op.kind)
		}
		if r.err == nil && int(op.inst) >= len(d.insts) {
			r.fail("point of instance %d of %d", op.inst, len(d.insts))
		}
		d.ops = append(d.ops, op)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the last point", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}

// reader decodes a record; the first error sticks and zeroes what follows.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrRecord, fmt.Sprintf(format, args...))
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) float() float64 { return math.Float64frombits(r.u64()) }

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items of at least minSize bytes each, refusing
// one the rest of the record cannot hold.
func (r *reader) count(minSize int) int {
	n := r.uvarint()
	if n > maxRecordCount || n*uint64(minSize) > uint64(len(r.b)) {
		r.fail("count %d does not fit in %d bytes", n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("string of %d bytes in %d", n, len(r.b))
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
