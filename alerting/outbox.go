package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/obsd-dev/obsd/internal/atomicfile"
)

// The outbox keeps one file per batch in its directory, named by a sequence
// number. A file is written with internal/atomicfile (temporary name,
// fsync, rename, fsync of the directory), so a crash leaves either the
// whole batch or nothing. Its format is a header line
// "obsd-outbox v1 <crc32c hex> <length>\n" followed by the JSON of the batch.
const (
	outboxMagic   = "obsd-outbox v1"
	batchSuffix   = ".batch"
	corruptSubdir = "corrupt"
	// tmpPrefix starts the temporary names of outboxes written before
	// internal/atomicfile; leftovers of a crash are still removed.
	tmpPrefix = ".tmp-"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type outboxBatch struct {
	seq    uint64
	alerts []Alert
}

// outbox is a durable FIFO of alert batches for one destination.
type outbox struct {
	dir       string
	maxQueued int

	mu      sync.Mutex
	batches []outboxBatch
	queued  int
	nextSeq uint64
	ready   chan struct{}
}

// openOutbox loads the batches found in dir. Corrupt files are moved to
// dir/corrupt and counted in corrupt; they never stop the outbox.
func openOutbox(dir string, maxQueued int) (o *outbox, corrupt int, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("could not create outbox %q: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("could not read outbox %q: %w", dir, err)
	}
	o = &outbox{dir: dir, maxQueued: maxQueued, ready: make(chan struct{}, 1), nextSeq: 1}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			continue
		case atomicfile.IsTemp(name) || strings.HasPrefix(name, tmpPrefix):
			_ = os.Remove(filepath.Join(dir, name)) // an unfinished write
			continue
		case !strings.HasSuffix(name, batchSuffix):
			continue
		}
		seq, perr := strconv.ParseUint(strings.TrimSuffix(name, batchSuffix), 10, 64)
		data, rerr := os.ReadFile(filepath.Join(dir, name))
		var alerts []Alert
		if perr == nil && rerr == nil {
			alerts, rerr = decodeBatch(data)
		}
		if perr != nil || rerr != nil {
			corrupt++
			if err := o.moveAside(name); err != nil {
				return nil, corrupt, err
			}
			continue
		}
		o.batches = append(o.batches, outboxBatch{seq: seq, alerts: alerts})
		o.queued += len(alerts)
		if seq >= o.nextSeq {
			o.nextSeq = seq + 1
		}
	}
	sort.Slice(o.batches, func(i, j int) bool { return o.batches[i].seq < o.batches[j].seq })
	if len(o.batches) > 0 {
		o.ready <- struct{}{}
	}
	return o, corrupt, nil
}

func (o *outbox) moveAside(name string) error {
	dst := filepath.Join(o.dir, corruptSubdir)
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return fmt.Errorf("could not create %q: %w", dst, err)
	}
	if err := os.Rename(filepath.Join(o.dir, name), filepath.Join(dst, name)); err != nil {
		return fmt.Errorf("could not move corrupt outbox file %q aside: %w", name, err)
	}
	return nil
}

// encodeBatch renders the on-disk form of a batch.
func encodeBatch(alerts []Alert) ([]byte, error) {
	body, err := json.Marshal(alerts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s %08x %d\n", outboxMagic, crc32.Checksum(body, crcTable), len(body))
	buf.Write(body)
	return buf.Bytes(), nil
}

// decodeBatch parses the on-disk form of a batch; any damage is an error.
func decodeBatch(data []byte) ([]Alert, error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return nil, errors.New("outbox file has no header")
	}
	fields := strings.Fields(string(data[:nl]))
	if len(fields) != 4 || fields[0]+" "+fields[1] != outboxMagic {
		return nil, errors.New("outbox file has a bad header")
	}
	sum, err := strconv.ParseUint(fields[2], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("outbox file has a bad checksum field: %w", err)
	}
	n, err := strconv.Atoi(fields[3])
	body := data[nl+1:]
	if err != nil || n != len(body) {
		return nil, fmt.Errorf("outbox file is truncated: header says %s bytes, %d present", fields[3], len(body))
	}
	if crc32.Checksum(body, crcTable) != uint32(sum) {
		return nil, errors.New("outbox file checksum mismatch")
	}
	var alerts []Alert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("outbox file has bad JSON: %w", err)
	}
	for i := range alerts {
		if len(alerts[i].Labels) == 0 {
			return nil, fmt.Errorf("outbox alert %d has no labels", i)
		}
	}
	return alerts, nil
}

// push durably appends a batch, then drops the oldest batches while more
// than maxQueued alerts are held; it returns the number of alerts dropped.
func (o *outbox) push(alerts []Alert) (dropped int, err error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	data, err := encodeBatch(alerts)
	if err != nil {
		return 0, fmt.Errorf("could not encode outbox batch: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	seq := o.nextSeq
	if err := atomicfile.Write(filepath.Join(o.dir, batchName(seq)), data, 0o600); err != nil {
		return 0, fmt.Errorf("could not write outbox batch: %w", err)
	}
	o.nextSeq++
	o.batches = append(o.batches, outboxBatch{seq: seq, alerts: alerts})
	o.queued += len(alerts)
	for o.queued > o.maxQueued && len(o.batches) > 1 {
		dropped += len(o.batches[0].alerts)
		o.removeLocked(o.batches[0].seq)
	}
	select {
	case o.ready <- struct{}{}:
	default:
	}
	return dropped, nil
}

// peek returns the oldest batches holding at most maxAlerts alerts in all
// (always at least one batch when any is queued).
func (o *outbox) peek(maxAlerts int) []outboxBatch {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, total := 0, 0
	for n < len(o.batches) && (n == 0 || total+len(o.batches[n].alerts) <= maxAlerts) {
		total += len(o.batches[n].alerts)
		n++
	}
	return append([]outboxBatch(nil), o.batches[:n]...)
}

// removeBatches deletes delivered batches; ones already gone are skipped.
func (o *outbox) removeBatches(bs []outboxBatch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range bs {
		o.removeLocked(b.seq)
	}
}

// head returns the oldest batch.
func (o *outbox) head() (outboxBatch, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.batches) == 0 {
		return outboxBatch{}, false
	}
	return o.batches[0], true
}

// remove deletes a delivered batch; it is a no-op when seq is gone already.
func (o *outbox) remove(seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.removeLocked(seq)
}

func (o *outbox) removeLocked(seq uint64) {
	for i, b := range o.batches {
		if b.seq == seq {
			_ = os.Remove(filepath.Join(o.dir, batchName(seq)))
			o.queued -= len(b.alerts)
			o.batches = append(o.batches[:i], o.batches[i+1:]...)
			return
		}
	}
}

// depth is the number of alerts held.
func (o *outbox) depth() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queued
}

func batchName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, batchSuffix) }
