package slo

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/internal/piggyback"
	sloengine "github.com/obsd-dev/obsd/slo"
)

// Acknowledged means counted. A request's SLO events are read into a
// sloengine.Batch (before anything downstream can shed them) and counted
// only once the rest of the pipeline accepted the request: what a client
// was told is accepted is counted exactly once, what was refused (and will
// be retried) is not counted. With a journal, the batch's record is
// offered to the exporter queue's put of the same request
// (internal/piggyback): on wal_storage both are committed in one batch and
// one write, so the events survive kill -9 exactly when the request does.
// A record no put carried is written alone before the request is
// acknowledged.

// maxKeptRecord bounds the record buffers kept for reuse.
const maxKeptRecord = 1 << 20

// pendingBatch is the reusable state of one request being counted.
type pendingBatch struct {
	batch *sloengine.Batch
	rec   []byte
}

var pendingPool = sync.Pool{New: func() any { return &pendingBatch{batch: sloengine.NewBatch()} }}

// count reads a request with scan and counts it once next (the rest of the
// pipeline; nil for the connector, which is the end of its pipeline)
// accepted it, journaling it first when a journal is configured. It returns
// next's error.
func (s *runner) count(ctx context.Context, scan func(*sloengine.Batch), next func(context.Context) error) error {
	p := pendingPool.Get().(*pendingBatch)
	defer func() {
		p.batch.Reset()
		if cap(p.rec) > maxKeptRecord {
			p.rec = nil
		}
		pendingPool.Put(p)
	}()
	b := p.batch
	scan(b)
	if b.Len() == 0 {
		return callNext(ctx, next)
	}
	seq := s.engine.Begin(b)
	j := s.journal.Load()
	if j == nil {
		if err := callNext(ctx, next); err != nil {
			s.engine.Abort(b)
			return err
		}
		s.engine.Commit(b, true)
		return nil
	}
	p.rec = b.AppendRecord(p.rec[:0])
	pw := &piggyback.Write{Owner: j.client, Key: journalKey(seq), Value: p.rec}
	var err error
	if next != nil {
		err = next(piggyback.NewContext(ctx, pw))
	}
	switch st := pw.Close(); {
	case st == piggyback.Written:
		// On disk with the request: it counts, whatever else failed
		// downstream, since replay would count it too.
		j.wrote(seq, true)
		s.engine.Commit(b, true)
		return err
	case err != nil:
		// Refused (with the put that carried the record, or before any
		// put): the client keeps the data and retries.
		s.engine.Abort(b)
		return err
	}
	durable := true
	if werr := j.write(ctx, seq, p.rec); werr != nil {
		// The request is accepted already: count it; only a crash before
		// the next snapshot would lose these events.
		durable = false
		s.journalFailed(werr)
	}
	s.engine.Commit(b, durable)
	return nil
}

func callNext(ctx context.Context, next func(context.Context) error) error {
	if next == nil {
		return nil
	}
	return next(ctx)
}

// journalFailed logs a record that could not be written, at most once a
// minute (they are all counted).
func (s *runner) journalFailed(err error) {
	now := time.Now().UnixNano()
	last := s.journalLogged.Load()
	if now-last < int64(time.Minute) || !s.journalLogged.CompareAndSwap(last, now) {
		return
	}
	s.logger.Error("cannot write the slo journal: the events of accepted requests are counted, but a crash before the next snapshot loses them",
		zap.Error(err))
}

// countTraces counts the span SLIs of td once next accepted it.
func (s *runner) countTraces(ctx context.Context, td ptrace.Traces, next consumer.Traces) error {
	var n func(context.Context) error
	if next != nil {
		n = func(ctx context.Context) error { return next.ConsumeTraces(ctx, td) }
	}
	if err := s.count(ctx, func(b *sloengine.Batch) { s.scanTraces(b, td) }, n); err != nil {
		return err
	}
	s.consumeDrills(td)
	return nil
}

// countLogs counts the log SLIs of ld once next accepted it.
func (s *runner) countLogs(ctx context.Context, ld plog.Logs, next consumer.Logs) error {
	var n func(context.Context) error
	if next != nil {
		n = func(ctx context.Context) error { return next.ConsumeLogs(ctx, ld) }
	}
	return s.count(ctx, func(b *sloengine.Batch) { s.scanLogs(b, ld) }, n)
}

// countMetrics counts the metric SLIs of md once next accepted it.
func (s *runner) countMetrics(ctx context.Context, md pmetric.Metrics, next consumer.Metrics) error {
	var n func(context.Context) error
	if next != nil {
		n = func(ctx context.Context) error { return next.ConsumeMetrics(ctx, md) }
	}
	return s.count(ctx, func(b *sloengine.Batch) { s.scanMetrics(b, md) }, n)
}
