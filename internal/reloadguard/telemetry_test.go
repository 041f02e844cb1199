package reloadguard

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
)

func TestReloadCounterCountsAppliedAndRefusedReloads(t *testing.T) {
	g := New(func(_ context.Context, conf *confmap.Conf) error {
		if conf.IsSet("bad") {
			return errors.New("invalid")
		}
		return nil
	})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	if _, err := g.registerMetrics(mp); err != nil {
		t.Fatal(err)
	}
	conv := g.ConverterFactory().Create(confmap.ConverterSettings{Logger: zap.NewNop()})
	for _, load := range []map[string]any{{"a": 1}, {"a": 2}, {"bad": true}, {"bad": 2}, {"a": 3}} {
		if err := conv.Convert(context.Background(), confmap.NewFromStringMap(load)); err != nil {
			t.Fatal(err)
		}
	}
	got := reloadCounts(t, reader)
	want := map[string]int64{"applied": 2, "refused": 2}
	if got["applied"] != want["applied"] || got["refused"] != want["refused"] || len(got) != 2 {
		t.Fatalf("obsd_config_reloads_total = %v, want %v (the first load is not a reload)", got, want)
	}
}

func TestTelemetryFactoryIsWrappedWithTheReloadCounter(t *testing.T) {
	g := New(nil)
	f, err := g.WithReloadMetrics(testFactories)()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Telemetry.(reloadTelemetryFactory); !ok {
		t.Fatalf("telemetry factory is %T, want the reload-counting wrapper", f.Telemetry)
	}
	if len(f.Receivers) == 0 || len(f.Exporters) == 0 {
		t.Fatal("the other factories were lost")
	}
}

func reloadCounts(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != metricConfigReloads {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				r, _ := dp.Attributes.Value(attribute.Key("result"))
				out[r.AsString()] = dp.Value
			}
		}
	}
	return out
}

func TestMeterScopeIsThisPackagesImportPath(t *testing.T) {
	if got := reflect.TypeFor[Guard]().PkgPath(); got != scopeName {
		t.Fatalf("scopeName %q, but the package is %q", scopeName, got)
	}
}
