package loki

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
)

// permanentMetricName counts the records Loki refused for good.
const permanentMetricName = "obsd_loki_exporter_permanently_rejected_records_total"

// telemetry holds the exporter's own instruments (the exporterhelper
// counts sent, failed and queued records).
type telemetry struct {
	permanentRejected metric.Int64Counter
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{}
	t.permanentRejected = b.Int64Counter(permanentMetricName,
		metric.WithDescription("Log records Loki refused with a non-retryable 4xx status; they are dropped, not retried."))
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}
