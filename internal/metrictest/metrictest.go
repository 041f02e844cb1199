// Package metrictest reads a component's own metrics back in tests, from
// the OpenTelemetry SDK's ManualReader the test installed.
package metrictest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Int64Values reads the int64 counter or gauge name as
// "label=value,..." -> value, keyed by the labels named only (points that
// share them are added up).
func Int64Values(t testing.TB, reader *sdkmetric.ManualReader, name string, labels ...string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			case metricdata.Sum[int64]:
				points = d.DataPoints
			}
			for _, dp := range points {
				key := ""
				for _, l := range labels {
					v, _ := dp.Attributes.Value(attribute.Key(l))
					key += l + "=" + v.AsString() + ","
				}
				out[key] += dp.Value
			}
		}
	}
	return out
}
