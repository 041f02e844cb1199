package filelog

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// telemetry holds one receiver's instruments with their attribute sets
// built once, so that counting allocates nothing.
type telemetry struct {
	errors   metric.Int64Counter
	oversize metric.Int64Counter
	byReason map[string]metric.AddOption
	receiver metric.AddOption
}

func newTelemetry(set component.TelemetrySettings, receiverID string) (*telemetry, error) {
	m := set.MeterProvider.Meter(scopeName)
	t := &telemetry{
		byReason: make(map[string]metric.AddOption, len(Reasons)),
		receiver: metric.WithAttributeSet(attribute.NewSet(attribute.String("receiver", receiverID))),
	}
	var err error
	if t.errors, err = m.Int64Counter("obsd_filelog_errors_total",
		metric.WithDescription("Files, lines and batches the file_log receiver skipped or dropped, by reason (unreadable, open_failed, read_failed, parse_failed, dropped).")); err != nil {
		return nil, err
	}
	if t.oversize, err = m.Int64Counter("obsd_filelog_oversize_records_total",
		metric.WithDescription("Log records cut at a size limit: a line split or truncated at max_log_size (one count per cut).")); err != nil {
		return nil, err
	}
	for _, r := range Reasons {
		t.byReason[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("receiver", receiverID), attribute.String("reason", r)))
	}
	return t, nil
}

func (t *telemetry) countError(reason string) {
	t.errors.Add(context.Background(), 1, t.byReason[reason])
}

// oversizeCounter sits between the upstream receiver and the pipeline and
// counts records at least threshold bytes long. It counts a batch once the
// pipeline has taken it (or refused it for good): the receiver retries
// refused batches, and a retried batch must not be counted twice.
type oversizeCounter struct {
	next      consumer.Logs
	threshold int
	tel       *telemetry
}

var _ consumer.Logs = (*oversizeCounter)(nil)

func (c *oversizeCounter) Capabilities() consumer.Capabilities { return c.next.Capabilities() }

func (c *oversizeCounter) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	n := countOversize(ld, c.threshold)
	err := c.next.ConsumeLogs(ctx, ld)
	if n > 0 && (err == nil || consumererror.IsPermanent(err)) {
		c.tel.oversize.Add(ctx, n, c.tel.receiver)
	}
	return err
}

// countOversize is the number of records in ld whose string body is at
// least threshold bytes long.
func countOversize(ld plog.Logs, threshold int) int64 {
	var n int64
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if b := lrs.At(k).Body(); b.Type() == pcommon.ValueTypeStr && len(b.Str()) >= threshold {
					n++
				}
			}
		}
	}
	return n
}
