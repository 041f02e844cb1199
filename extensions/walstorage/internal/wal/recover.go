package wal

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxSegmentRead bounds the file recovery reads into memory: obsd never
// writes a segment larger than one record (at most maxBodyLen) past
// SegmentSize.
const maxSegmentRead = 2 * maxBodyLen

// span is the byte range of one intact batch in a segment.
type span struct{ start, end int }

// scanResult is what validating a segment's bytes found.
type scanResult struct {
	batches  []span
	goodEnd  int // end of the last intact batch
	findings map[CorruptionKind]*Corruption
	order    []CorruptionKind
}

func (r *scanResult) damaged() bool {
	for _, k := range r.order {
		if k != TornTail {
			return true
		}
	}
	return false
}

// note adds one damaged place to the segment's finding of kind.
func (r *scanResult) note(kind CorruptionKind, off, bytes, records int) {
	c, ok := r.findings[kind]
	if !ok {
		c = &Corruption{Kind: kind, Offset: int64(off)}
		r.findings[kind] = c
		r.order = append(r.order, kind)
	}
	c.Count++
	c.Bytes += int64(bytes)
	c.Records += records
}

// scan validates data (a whole segment, magic included) and returns its
// intact batches and what was wrong. It never trusts a length whose header
// checksum fails, and never applies part of a batch.
func scan(data []byte) *scanResult {
	res := &scanResult{goodEnd: segmentHdrSize, findings: map[CorruptionKind]*Corruption{}}
	off := segmentHdrSize
	batchStart, batchRecs := -1, 0
	lastKind := BadChecksum // where records of a batch broken earlier are counted
	dropBatch := func() int {
		n := batchRecs
		batchStart, batchRecs = -1, 0
		return n
	}
	for off < len(data) {
		st, n := checkRecord(data, off)
		switch st {
		case headerOK:
			r, err := parseBody(data[off+headerSize : off+headerSize+n])
			if err != nil {
				res.note(BadChecksum, off, headerSize+n, 1+dropBatch())
				lastKind = BadChecksum
				off += headerSize + n
				continue
			}
			if r.flags&flagFirst != 0 {
				if batchStart >= 0 { // the previous batch never got its last record
					res.note(BadHeader, batchStart, 0, dropBatch())
					lastKind = BadHeader
				}
				batchStart = off
			} else if batchStart < 0 { // the rest of a batch whose start was damaged
				if c, ok := res.findings[lastKind]; ok {
					c.Records++
					c.Bytes += int64(headerSize + n)
				} else {
					res.note(BadHeader, off, headerSize+n, 1)
					lastKind = BadHeader
				}
				off += headerSize + n
				continue
			}
			batchRecs++
			off += headerSize + n
			if r.flags&flagMore == 0 {
				res.batches = append(res.batches, span{batchStart, off})
				res.goodEnd = off
				batchStart, batchRecs = -1, 0
			}
		case headerBodyBad:
			res.note(BadChecksum, off, headerSize+n, 1+dropBatch())
			lastKind = BadChecksum
			off += headerSize + n
		case headerBad:
			next := resync(data, off)
			if next < 0 {
				res.note(TornTail, off, len(data)-off, dropBatch())
				return res
			}
			res.note(BadHeader, off, next-off, 1+dropBatch())
			lastKind = BadHeader
			off = next
		default: // headerShort, headerTorn
			res.note(TornTail, off, len(data)-off, 1+dropBatch())
			return res
		}
	}
	if batchStart >= 0 {
		res.note(TornTail, batchStart, len(data)-batchStart, dropBatch())
	}
	return res
}

// recover reads every segment in the directory, oldest first, repairs what
// it must and rebuilds the index. Only a directory it cannot list fails it.
func (w *WAL) recover() error {
	ids, highest, err := listSegments(w.opts.Dir)
	if err != nil {
		return err
	}
	w.nextSeg = highest + 1
	var buf []byte
	for _, id := range ids {
		buf = w.recoverSegment(id, buf)
	}
	w.orphans = w.unknownClients()
	for _, s := range w.segs {
		w.checkRemovable(s)
	}
	return nil
}

// recoverSegment loads one segment into the index; buf is a reusable read
// buffer, returned grown.
func (w *WAL) recoverSegment(id uint64, buf []byte) []byte {
	path := filepath.Join(w.opts.Dir, segmentName(id))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		w.quarantine(path, 0, fmt.Errorf("cannot open: %w", err))
		return buf
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		w.quarantine(path, 0, fmt.Errorf("cannot stat: %w", err))
		return buf
	}
	if st.Size() > maxSegmentRead {
		f.Close()
		w.quarantine(path, st.Size(), fmt.Errorf("%d bytes, larger than any segment obsd writes", st.Size()))
		return buf
	}
	size := int(st.Size())
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	data := buf[:size]
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(size)), data); err != nil {
		f.Close()
		w.quarantine(path, int64(size), fmt.Errorf("cannot read: %w", err))
		return buf
	}
	if size < segmentHdrSize && segmentMagic[:size] == string(data) {
		// Created just before a crash, before its header was complete.
		f.Close()
		os.Remove(path)
		w.obs.Corrupted(Corruption{Kind: TornTail, Segment: path, Count: 1, Bytes: int64(size),
			Detail: "segment shorter than its header (created just before a crash); removed"})
		return buf
	}
	if size < segmentHdrSize || string(data[:segmentHdrSize]) != segmentMagic {
		f.Close()
		w.quarantine(path, int64(size), fmt.Errorf("not a wal segment (bad magic)"))
		return buf
	}
	res := scan(data)
	report := res
	seg := &segment{id: id, path: path, f: f, fd: int(f.Fd()), size: int64(size), sealed: true, dirty: true, lastPassLive: -1}
	switch {
	case res.damaged():
		if clean, err := w.rewrite(seg, data, res); err == nil {
			data = clean
			res = scan(clean)
		} else {
			detail := fmt.Sprintf("could not rewrite the segment without them (%v); they will be reported again on the next start", err)
			for _, c := range res.findings {
				c.Detail = detail
			}
		}
	case res.goodEnd < size:
		if err := f.Truncate(int64(res.goodEnd)); err != nil {
			res.findings[TornTail].Detail = fmt.Sprintf("could not truncate (%v); skipped", err)
		} else {
			seg.size = int64(res.goodEnd)
		}
	}
	w.reportFindings(path, report)
	w.segs[id] = seg
	w.diskBytes += seg.size
	for _, b := range res.batches {
		w.replayBatch(seg, data, b)
	}
	return buf
}

// rewrite replaces a damaged segment's file with its intact batches only,
// so that the damage is reported once, not on every start. It returns the
// new contents.
func (w *WAL) rewrite(seg *segment, data []byte, res *scanResult) ([]byte, error) {
	clean := make([]byte, 0, len(data))
	clean = append(clean, segmentMagic...)
	for _, b := range res.batches {
		clean = append(clean, data[b.start:b.end]...)
	}
	tmp := seg.path + ".tmp"
	if err := os.WriteFile(tmp, clean, 0o600); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, seg.path); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := syncDir(w.opts.Dir); err != nil {
		w.obs.Failed("fsync directory", err)
	}
	seg.f.Close()
	seg.f, seg.fd, seg.size = f, int(f.Fd()), int64(len(clean))
	for _, c := range res.findings {
		c.Detail = "dropped; the segment was rewritten without them"
	}
	return clean, nil
}

func (w *WAL) reportFindings(path string, res *scanResult) {
	for _, k := range res.order {
		c := *res.findings[k]
		c.Segment = path
		if c.Count <= 0 {
			continue
		}
		if c.Detail == "" {
			c.Detail = "dropped"
			if k == TornTail {
				c.Detail = "truncated"
			}
		}
		w.obs.Corrupted(c)
	}
}

// replayBatch applies one intact batch of data (already validated).
func (w *WAL) replayBatch(seg *segment, data []byte, b span) {
	for off := b.start; off < b.end; {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		r, _ := parseBody(data[off+headerSize : off+headerSize+n])
		rsize := headerSize + n
		switch r.kind() {
		case kindClient:
			w.defineClient(r.client, string(r.key))
		case kindSet:
			w.applySet(w.clientByID(r.client), string(r.key), seg, int64(off), r.valueOff, len(r.value), rsize)
		case kindDelete:
			w.applyDelete(w.clientByID(r.client), string(r.key), seg)
		}
		off += rsize
	}
}

// defineClient records a client's name during recovery.
func (w *WAL) defineClient(id uint32, name string) {
	c := w.clientByID(id)
	c.name = name
	w.names[name] = id
}

func (w *WAL) clientByID(id uint32) *clientState {
	c, ok := w.clients[id]
	if !ok {
		c = &clientState{id: id, keys: map[string]entry{}}
		w.clients[id] = c
		w.nextCID = max(w.nextCID, id+1)
	}
	return c
}

// unknownClients takes out of the index the clients whose definition was
// lost: no one can ask for them by name. Their records stay accounted for
// until Open deletes them.
func (w *WAL) unknownClients() []*clientState {
	var out []*clientState
	for id, c := range w.clients {
		if c.name != "" && w.names[c.name] == id {
			continue
		}
		delete(w.clients, id)
		if len(c.keys) == 0 {
			continue
		}
		var bytes int64
		for _, e := range c.keys {
			bytes += int64(e.rsize)
		}
		out = append(out, c)
		w.obs.Corrupted(Corruption{Kind: UnknownClient, Segment: w.opts.Dir, Count: 1, Records: len(c.keys), Bytes: bytes,
			Detail: fmt.Sprintf("%d records of client #%d, whose name was lost with a damaged segment, deleted", len(c.keys), id)})
	}
	return out
}

// deleteAll writes tombstones for every key of orphaned clients, so that
// they are dropped once, not on every start.
func (w *WAL) deleteAll(orphans []*clientState) {
	for _, c := range orphans {
		ops := make([]Op, 0, len(c.keys))
		for k := range c.keys {
			ops = append(ops, Op{Kind: OpDelete, Key: k})
		}
		if err := (&Client{w: w, c: c}).Batch(ops); err != nil {
			w.obs.Failed("delete the records of an unknown client", err)
		}
	}
}
