package walstorage

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
)

// Instrument names are the exact Prometheus names (obsd's telemetry exports
// without type or unit suffixes). Every series carries `storage`, the
// extension's component id; the other labels are listed per metric.
const (
	metricLiveBytes      = "obsd_wal_live_bytes"
	metricLiveRecords    = "obsd_wal_live_records"
	metricDiskBytes      = "obsd_wal_disk_bytes"
	metricSegments       = "obsd_wal_segments"
	metricWrites         = "obsd_wal_writes_total"
	metricBatches        = "obsd_wal_batches_total"
	metricWrittenBytes   = "obsd_wal_written_bytes_total"
	metricWriteDuration  = "obsd_wal_write_duration_seconds"
	metricFsyncDuration  = "obsd_wal_fsync_duration_seconds"
	metricCompactions    = "obsd_wal_compactions_total"
	metricCompactedBytes = "obsd_wal_compacted_bytes_total"
	metricRemoved        = "obsd_wal_segments_removed_total"
	metricCorruptions    = "obsd_wal_corruptions_total"       // kind
	metricDropped        = "obsd_wal_dropped_records_total"   // kind
	metricRefused        = "obsd_wal_refused_batches_total"   // reason
	metricIOErrors       = "obsd_wal_background_errors_total" // op

	labelStorage = "storage"
	labelKind    = "kind"
	labelReason  = "reason"
	labelOp      = "op"

	// failureLogEvery bounds the log lines of a background error that
	// repeats (a failing fsync every second).
	failureLogEvery = time.Minute
)

// latencyBuckets are the boundaries of the write and fsync histograms, in
// seconds: from 10µs (a write to the page cache) to 1s (a stalled disk).
var latencyBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// telemetry is the log's Observer: metrics and log lines. Attribute sets
// are built once; recording allocates nothing.
type telemetry struct {
	logger *zap.Logger

	writes, batches, written, compactions, compacted, removed metric.Int64Counter
	corruptions, dropped, refused, ioErrors                   metric.Int64Counter
	writeDur, fsyncDur                                        metric.Float64Histogram
	registration                                              metric.Registration

	storage   attribute.KeyValue
	base      metric.MeasurementOption
	addBase   []metric.AddOption    // base, ready to spread without allocating
	recBase   []metric.RecordOption // base, ready to spread without allocating
	kindOpts  map[wal.CorruptionKind]metric.MeasurementOption
	reasonOpt map[wal.RefusalReason]metric.MeasurementOption

	mu         sync.Mutex
	lastLogged map[string]time.Time
}

var _ wal.Observer = (*telemetry)(nil)

func newTelemetry(set component.TelemetrySettings, id string, stats func() (wal.Stats, bool)) (*telemetry, error) {
	meter := set.MeterProvider.Meter(scopeName)
	storageAttr := attribute.String(labelStorage, id)
	t := &telemetry{
		logger:     set.Logger,
		storage:    storageAttr,
		base:       metric.WithAttributeSet(attribute.NewSet(storageAttr)),
		kindOpts:   map[wal.CorruptionKind]metric.MeasurementOption{},
		reasonOpt:  map[wal.RefusalReason]metric.MeasurementOption{},
		lastLogged: map[string]time.Time{},
	}
	t.addBase = []metric.AddOption{t.base}
	t.recBase = []metric.RecordOption{t.base}
	for _, k := range wal.CorruptionKinds {
		t.kindOpts[k] = metric.WithAttributeSet(attribute.NewSet(storageAttr, attribute.String(labelKind, string(k))))
	}
	for _, r := range wal.RefusalReasons {
		t.reasonOpt[r] = metric.WithAttributeSet(attribute.NewSet(storageAttr, attribute.String(labelReason, string(r))))
	}
	counters := []struct {
		dst        *metric.Int64Counter
		name, desc string
		unit       string
	}{
		{&t.writes, metricWrites, "Group commits: writes of the log, each holding the records of one or more batches.", "{write}"},
		{&t.batches, metricBatches, "Batches (of any client) written; batches / writes is how many a group commit shares.", "{batch}"},
		{&t.written, metricWrittenBytes, "Bytes written to the log.", "By"},
		{&t.compactions, metricCompactions, "Compaction steps that copied live records forward out of a mostly dead file.", "{step}"},
		{&t.compacted, metricCompactedBytes, "Bytes of live records copied by compaction.", "By"},
		{&t.removed, metricRemoved, "Log files deleted because nothing in them was live any more.", "{segment}"},
		{&t.corruptions, metricCorruptions, "Damaged places found when the log was opened, by kind (torn_tail|bad_checksum|bad_header|unreadable_segment|unknown_client); each is repaired and logged once.", "{corruption}"},
		{&t.dropped, metricDropped, "Records dropped when the log was opened because they, or a record of their batch, were damaged, by kind.", "{record}"},
		{&t.refused, metricRefused, "Batches refused because the log or the disk was full, by reason (max_size|disk_reserve|disk_full); the writer got a retryable error.", "{batch}"},
		{&t.ioErrors, metricIOErrors, "Background I/O errors (fsync, file removal, compaction), by op; the log keeps going.", "{error}"},
	}
	var err error
	for _, c := range counters {
		if *c.dst, err = meter.Int64Counter(c.name, metric.WithDescription(c.desc), metric.WithUnit(c.unit)); err != nil {
			return nil, err
		}
	}
	if t.writeDur, err = meter.Float64Histogram(metricWriteDuration,
		metric.WithDescription("Time of one group-commit write(2) (fsync not included)."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...)); err != nil {
		return nil, err
	}
	if t.fsyncDur, err = meter.Float64Histogram(metricFsyncDuration,
		metric.WithDescription("Time of one fsync (fdatasync) of a log file."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...)); err != nil {
		return nil, err
	}
	if t.registration, err = registerGauges(meter, storageAttr, stats); err != nil {
		return nil, err
	}
	return t, nil
}

// registerGauges registers the size gauges, read from stats at each
// collection.
func registerGauges(meter metric.Meter, storageAttr attribute.KeyValue, stats func() (wal.Stats, bool)) (metric.Registration, error) {
	gauges := []struct {
		name, desc, unit string
		value            func(wal.Stats) int64
	}{
		{metricLiveBytes, "Bytes of live records (the latest value of every key).", "By", func(s wal.Stats) int64 { return s.LiveBytes }},
		{metricLiveRecords, "Live records: keys held, over all clients.", "{record}", func(s wal.Stats) int64 { return s.LiveRecords }},
		{metricDiskBytes, "Bytes in the log's files, live and dead.", "By", func(s wal.Stats) int64 { return s.DiskBytes }},
		{metricSegments, "Log files.", "{segment}", func(s wal.Stats) int64 { return int64(s.Segments) }},
	}
	observables := make([]metric.Observable, len(gauges))
	instruments := make([]metric.Int64ObservableGauge, len(gauges))
	for i, g := range gauges {
		var err error
		if instruments[i], err = meter.Int64ObservableGauge(g.name, metric.WithDescription(g.desc), metric.WithUnit(g.unit)); err != nil {
			return nil, err
		}
		observables[i] = instruments[i]
	}
	observeOpt := metric.WithAttributeSet(attribute.NewSet(storageAttr))
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st, ok := stats()
		if !ok {
			return nil
		}
		for i, g := range gauges {
			o.ObserveInt64(instruments[i], g.value(st), observeOpt)
		}
		return nil
	}, observables...)
}

func (t *telemetry) shutdown() error {
	if t.registration == nil {
		return nil
	}
	return t.registration.Unregister()
}

// Wrote records one group commit.
func (t *telemetry) Wrote(d time.Duration, bytes, batches int) {
	ctx := context.Background()
	t.writes.Add(ctx, 1, t.addBase...)
	t.batches.Add(ctx, int64(batches), t.addBase...)
	t.written.Add(ctx, int64(bytes), t.addBase...)
	t.writeDur.Record(ctx, d.Seconds(), t.recBase...)
}

// Synced records one fsync.
func (t *telemetry) Synced(d time.Duration) {
	t.fsyncDur.Record(context.Background(), d.Seconds(), t.recBase...)
}

// Corrupted counts and logs (once: recovery reports each finding once) one
// finding of recovery.
func (t *telemetry) Corrupted(c wal.Corruption) {
	ctx := context.Background()
	opt, ok := t.kindOpts[c.Kind]
	if !ok {
		opt = t.base
	}
	t.corruptions.Add(ctx, int64(c.Count), opt)
	t.dropped.Add(ctx, int64(c.Records), opt)
	t.logger.Warn("WAL storage found damage on start and repaired it",
		zap.String("kind", string(c.Kind)), zap.String("segment", c.Segment), zap.Int64("offset", c.Offset),
		zap.Int("places", c.Count), zap.Int("dropped_records", c.Records), zap.Int64("bytes", c.Bytes),
		zap.String("action", c.Detail))
}

// Compacted records one compaction step.
func (t *telemetry) Compacted(bytes int64) {
	ctx := context.Background()
	t.compactions.Add(ctx, 1, t.base)
	t.compacted.Add(ctx, bytes, t.base)
}

// SegmentRemoved records one deleted file.
func (t *telemetry) SegmentRemoved() {
	t.removed.Add(context.Background(), 1, t.base)
}

// Refused records one refused batch; the writer logs or answers it.
func (t *telemetry) Refused(reason wal.RefusalReason) {
	opt, ok := t.reasonOpt[reason]
	if !ok {
		opt = t.base
	}
	t.refused.Add(context.Background(), 1, opt)
}

// Failed counts a background I/O error and logs it, at most once a minute
// per operation.
func (t *telemetry) Failed(op string, err error) {
	t.ioErrors.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(t.storage, attribute.String(labelOp, op))))
	now := time.Now()
	t.mu.Lock()
	last, seen := t.lastLogged[op]
	if seen && now.Sub(last) < failureLogEvery {
		t.mu.Unlock()
		return
	}
	t.lastLogged[op] = now
	t.mu.Unlock()
	t.logger.Error("WAL storage background I/O failed; the log keeps going", zap.String("op", op), zap.Error(err))
}
