package metrictest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func TestInt64Values(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("t")
	c, err := m.Int64Counter("requests")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Add(ctx, 2, metric.WithAttributes(attribute.String("outcome", "ok"), attribute.String("peer", "a")))
	c.Add(ctx, 3, metric.WithAttributes(attribute.String("outcome", "ok"), attribute.String("peer", "b")))
	c.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", "refused"), attribute.String("peer", "a")))
	got := Int64Values(t, reader, "requests", "outcome")
	want := map[string]int64{"outcome=ok,": 5, "outcome=refused,": 1}
	if len(got) != len(want) || got["outcome=ok,"] != 5 || got["outcome=refused,"] != 1 {
		t.Fatalf("Int64Values = %v, want %v (points sharing the named labels added up)", got, want)
	}
	if got := Int64Values(t, reader, "absent"); len(got) != 0 {
		t.Fatalf("a metric never recorded reads %v, want nothing", got)
	}
}
