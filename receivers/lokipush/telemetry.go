package lokipush

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
)

// Reasons a whole request is refused; values of the `reason` label of
// obsd_lokipush_rejected_requests_total.
const (
	requestMalformed        = "malformed"
	requestTooLarge         = "too_large"
	requestUnsupportedMedia = "unsupported_media_type"
	requestPipelineRefused  = "pipeline_refused"
)

// telemetry holds the receiver's own instruments, with the attribute sets
// precomputed so that recording allocates nothing.
type telemetry struct {
	rejectedStreams  metric.Int64Counter
	rejectedEntries  metric.Int64Counter
	rejectedRequests metric.Int64Counter
	reasonAttrs      map[string]metric.MeasurementOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{reasonAttrs: map[string]metric.MeasurementOption{}}
	t.rejectedStreams = b.Int64Counter("obsd_lokipush_rejected_streams_total",
		metric.WithDescription("Streams dropped from a push request that was otherwise accepted, by reason."))
	t.rejectedEntries = b.Int64Counter("obsd_lokipush_rejected_entries_total",
		metric.WithDescription("Log entries lost with rejected streams, by reason."))
	t.rejectedRequests = b.Int64Counter("obsd_lokipush_rejected_requests_total",
		metric.WithDescription("Push requests refused as a whole, by reason."))
	if err := b.Err(); err != nil {
		return nil, err
	}
	for _, r := range []string{reasonInvalidLabels, reasonInvalidEntry, requestMalformed, requestTooLarge, requestUnsupportedMedia, requestPipelineRefused} {
		t.reasonAttrs[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
	}
	return t, nil
}

func (t *telemetry) streamRejected(ctx context.Context, r rejection) {
	t.rejectedStreams.Add(ctx, 1, t.reasonAttrs[r.reason])
	t.rejectedEntries.Add(ctx, int64(r.entries), t.reasonAttrs[r.reason])
}

func (t *telemetry) requestRejected(ctx context.Context, reason string) {
	t.rejectedRequests.Add(ctx, 1, t.reasonAttrs[reason])
}
