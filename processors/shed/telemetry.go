package shed

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
)

// Instrument names are the exact Prometheus names. Labels: signal
// (logs|traces), reason (debug_log|info_log|unsampled_span), processor (the
// component id).
const (
	metricShed     = "obsd_shed_items_total"
	metricLevel    = "obsd_shed_level"
	metricPressure = "obsd_shed_memory_pressure_ratio"
)

// Reasons an item is shed; their names are the `reason` label values.
const (
	reasonDebugLog = iota
	reasonInfoLog
	reasonUnsampledSpan
	numReasons
)

var reasonNames = [numReasons]string{"debug_log", "info_log", "unsampled_span"}

// telemetry owns one instance's instruments, with attribute sets built
// once.
type telemetry struct {
	shed         metric.Int64Counter
	reasonOpts   [numReasons][]metric.AddOption
	registration metric.Registration
}

func newTelemetry(set component.TelemetrySettings, id, signal string, s *shedder) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{}
	sig := attribute.String("signal", signal)
	for r := range numReasons {
		t.reasonOpts[r] = instruments.AddOptions(sig, attribute.String("reason", reasonNames[r]))
	}
	t.shed = b.Int64Counter(metricShed,
		metric.WithDescription("Items dropped by the shed processor under memory pressure, by signal and reason (debug_log|info_log|unsampled_span)."),
		metric.WithUnit("{item}"))
	level := b.Int64ObservableGauge(metricLevel,
		metric.WithDescription("Shedding level: 0 none, 1 TRACE/DEBUG logs, 2 also INFO logs, 3 also unsampled spans."),
		metric.WithUnit("1"))
	ratio := b.Float64ObservableGauge(metricPressure,
		metric.WithDescription("Heap objects' size over the shed processor's memory_limit_mib."),
		metric.WithUnit("1"))
	attrs := instruments.ObserveOptions(attribute.String("processor", id), sig)
	t.registration = b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(level, int64(s.currentLevel()), attrs...)
		o.ObserveFloat64(ratio, s.source.Ratio(), attrs...)
		return nil
	}, level, ratio)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// record adds a batch's counts.
func (t *telemetry) record(ctx context.Context, counts *[numReasons]int64) {
	for r, n := range counts {
		if n > 0 {
			t.shed.Add(ctx, n, t.reasonOpts[r]...)
		}
	}
}

func (t *telemetry) shutdown(context.Context) error {
	return t.registration.Unregister()
}
