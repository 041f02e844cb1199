package tenant

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
)

// metricRequests counts requests by where their tenant came from.
const metricRequests = "obsd_tenant_requests_total"

// Sources of a request's tenant, the `source` label values.
const (
	sourceAuth     = "auth"
	sourceMetadata = "metadata"
	sourceDefault  = "default"
	sourceNone     = "none"
)

// telemetry counts requests by the source of their tenant.
type telemetry struct {
	requests metric.Int64Counter
	// bySource are the counter's ready-made options per source: passing a
	// prepared slice to the variadic Add does not allocate per request.
	bySource map[string][]metric.AddOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{bySource: map[string][]metric.AddOption{}}
	t.requests = b.Int64Counter(metricRequests,
		metric.WithDescription("Requests (batches) seen by the tenant processor, by where their tenant came from: auth, metadata, default or none."))
	if err := b.Err(); err != nil {
		return nil, err
	}
	for _, s := range []string{sourceAuth, sourceMetadata, sourceDefault, sourceNone} {
		t.bySource[s] = instruments.AddOptions(attribute.String("source", s))
	}
	return t, nil
}

// request counts one request whose tenant came from source.
func (t *telemetry) request(ctx context.Context, source string) {
	t.requests.Add(ctx, 1, t.bySource[source]...)
}
