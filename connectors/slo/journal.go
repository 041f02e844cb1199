package slo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
)

// journalName is the storage name of the journal's client: the key space
// "connector/<id>/journal" of the storage extension.
const journalName = "journal"

// journalKeyPrefix starts every journal key; 16 hex digits of the batch's
// sequence number follow.
const journalKeyPrefix = "j"

// journal keeps, between two snapshots, the SLO events of every request
// the pipeline accepted, one key per request in a client of the storage
// extension named by 'storage' (checkpoint + write-ahead log, as
// Prometheus does): replayed over the snapshot at start, deleted once a
// snapshot holds them.
type journal struct {
	client storage.Client
	logger *zap.Logger

	mu sync.Mutex
	// written are the sequence numbers of records on disk that no
	// snapshot has truncated yet.
	written []uint64

	counts journalCounts
}

// journalCounts are the records by outcome (contract.Journal* values).
type journalCounts struct {
	committed, written, failed, replayed, dropped atomic.Uint64
}

// observe reports the counts as obsd_slo_journal_records_total{outcome}.
func (c *journalCounts) observe(o metric.Observer, counter metric.Int64Observable) {
	for _, oc := range []struct {
		name string
		n    *atomic.Uint64
	}{
		{contract.JournalCommitted, &c.committed}, {contract.JournalWritten, &c.written}, {contract.JournalFailed, &c.failed},
		{contract.JournalReplayed, &c.replayed}, {contract.JournalDropped, &c.dropped},
	} {
		o.ObserveInt64(counter, int64(oc.n.Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, oc.name)))
	}
}

// openJournal returns the journal client of component id in the storage
// extension storageID.
func openJournal(ctx context.Context, host component.Host, id component.ID, storageID component.ID, logger *zap.Logger) (*journal, error) {
	ext, ok := host.GetExtensions()[storageID]
	if !ok {
		return nil, fmt.Errorf("'storage': no extension %s; declare it under extensions and list it in service::extensions", storageID)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("'storage': extension %s is not a storage extension (use wal_storage or file_storage)", storageID)
	}
	client, err := se.GetClient(ctx, component.KindConnector, id, journalName)
	if err != nil {
		return nil, fmt.Errorf("'storage': could not open the journal in %s: %w", storageID, err)
	}
	if _, ok := client.(storage.Walker); !ok {
		_ = client.Close(ctx)
		return nil, fmt.Errorf("'storage': the clients of %s cannot list their keys (storage.Walker), which replaying the journal needs", storageID)
	}
	return &journal{client: client, logger: logger}, nil
}

// journalKey is the storage key of the record numbered seq: "j" and 16
// hex digits, so that keys sort as their numbers do.
func journalKey(seq uint64) string {
	const digits = "0123456789abcdef"
	var b [1 + 16]byte
	b[0] = journalKeyPrefix[0]
	for i := len(b) - 1; i > 0; i-- {
		b[i] = digits[seq&15]
		seq >>= 4
	}
	return string(b[:])
}

// wrote notes a record on disk (committed with the request, or written
// alone).
func (j *journal) wrote(seq uint64, piggybacked bool) {
	if piggybacked {
		j.counts.committed.Add(1)
	} else {
		j.counts.written.Add(1)
	}
	j.mu.Lock()
	j.written = append(j.written, seq)
	j.mu.Unlock()
}

// write writes a record alone, for a request whose queue put did not
// carry it (no queue on the same log, or a fan-out).
func (j *journal) write(ctx context.Context, seq uint64, rec []byte) error {
	if err := j.client.Set(context.WithoutCancel(ctx), journalKey(seq), rec); err != nil {
		j.counts.failed.Add(1)
		return err
	}
	j.wrote(seq, false)
	return nil
}

// replay replays the journal's records over the engine's restored
// snapshot, in sequence order, and returns how many points it counted
// again. Records it cannot use are counted, logged once and deleted with
// the rest at the next checkpoint.
func (j *journal) replay(ctx context.Context, e *sloengine.Engine, now time.Time) (int, error) {
	type rec struct {
		seq   uint64
		key   string
		value []byte
	}
	var recs []rec
	var unreadable []string
	err := j.client.(storage.Walker).Walk(ctx, func(key string, value []byte) ([]*storage.Operation, error) {
		seq, err := sloengine.RecordSeq(value)
		if err != nil {
			unreadable = append(unreadable, key)
			return []*storage.Operation{storage.DeleteOperation(key)}, nil
		}
		recs = append(recs, rec{seq: seq, key: key, value: slices.Clone(value)})
		return nil, nil
	})
	if err != nil {
		return 0, fmt.Errorf("could not read the slo journal: %w", err)
	}
	if len(unreadable) > 0 {
		j.counts.dropped.Add(uint64(len(unreadable)))
		j.logger.Error("slo journal records unreadable, deleted; their events are lost",
			zap.Int("records", len(unreadable)), zap.Strings("keys", unreadable))
	}
	slices.SortFunc(recs, func(a, b rec) int { return cmp.Compare(a.seq, b.seq) })
	points, unresolved, dropped := 0, 0, 0
	for _, r := range recs {
		res, err := e.Replay(r.value, now)
		switch {
		case err != nil:
			dropped++
			j.logger.Error("slo journal record unreadable, skipped; its events are lost", zap.String("key", r.key), zap.Error(err))
		case res.Covered:
		default:
			points += res.Applied
			unresolved += res.Unresolved
			if res.Unresolved > 0 {
				dropped++
			} else {
				j.counts.replayed.Add(1)
			}
		}
		// Every record found goes at the next checkpoint: the engine
		// holds what it could use of it.
		j.mu.Lock()
		j.written = append(j.written, r.seq)
		j.mu.Unlock()
	}
	j.counts.dropped.Add(uint64(dropped))
	if unresolved > 0 {
		j.logger.Warn("slo journal points of SLOs no longer declared were dropped", zap.Int("points", unresolved))
	}
	return points, nil
}

// truncate deletes the records the snapshot of mark holds, in one batch.
func (j *journal) truncate(ctx context.Context, mark sloengine.JournalMark) error {
	j.mu.Lock()
	var ops []*storage.Operation
	kept := j.written[:0]
	for _, seq := range j.written {
		if mark.Covers(seq) {
			ops = append(ops, storage.DeleteOperation(journalKey(seq)))
		} else {
			kept = append(kept, seq)
		}
	}
	j.written = kept
	j.mu.Unlock()
	if len(ops) == 0 {
		return nil
	}
	if err := j.client.Batch(context.WithoutCancel(ctx), ops...); err != nil {
		// The snapshot covers them: replay would skip them. Try again at
		// the next snapshot.
		j.mu.Lock()
		for _, op := range ops {
			if seq, err := strconv.ParseUint(op.Key[len(journalKeyPrefix):], 16, 64); err == nil {
				j.written = append(j.written, seq)
			}
		}
		j.mu.Unlock()
		return fmt.Errorf("could not truncate the slo journal: %w", err)
	}
	return nil
}

func (j *journal) close(ctx context.Context) error {
	return j.client.Close(ctx)
}
