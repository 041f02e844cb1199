package circuitbreaker

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/internal/instruments"
)

// Instrument names are the exact Prometheus names (obsd's telemetry exports
// without type or unit suffixes). Labels: breaker (the extension's
// component id, one per configured breaker) and to (closed|open|half_open).
const (
	metricState       = breakerstate.ExporterGauge
	metricTransitions = "obsd_circuit_breaker_transitions_total"
	metricRejected    = "obsd_circuit_breaker_rejected_total"
	labelBreaker      = breakerstate.ExporterGaugeLabel
	labelTo           = "to"
)

// telemetry holds one breaker's instruments, with every attribute set built
// once: recording allocates nothing.
type telemetry struct {
	transitions  metric.Int64Counter
	rejections   metric.Int64Counter
	registration metric.Registration
	toOpts       [3][]metric.AddOption // by breakerstate.State
	breakerOpts  []metric.AddOption
}

func newTelemetry(set component.TelemetrySettings, id string, state func() breakerstate.State) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	breakerAttr := attribute.String(labelBreaker, id)
	t := &telemetry{breakerOpts: instruments.AddOptions(breakerAttr)}
	for _, s := range breakerstate.All {
		t.toOpts[s] = instruments.AddOptions(breakerAttr, attribute.String(labelTo, s.String()))
	}
	t.transitions = b.Int64Counter(metricTransitions,
		metric.WithDescription("Circuit state changes, by breaker and the state entered (closed|open|half_open)."),
		metric.WithUnit("{transition}"))
	t.rejections = b.Int64Counter(metricRejected,
		metric.WithDescription("Calls failed fast without reaching the backend because the circuit was open (or half-open with every probe in flight)."),
		metric.WithUnit("{call}"))
	gauge := b.Int64ObservableGauge(metricState,
		metric.WithDescription("Circuit state: "+breakerstate.GaugeHelp+"."),
		metric.WithUnit("1"))
	observeOpts := instruments.ObserveOptions(breakerAttr)
	t.registration = b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(gauge, int64(state()), observeOpts...)
		return nil
	}, gauge)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) transition(to breakerstate.State) {
	t.transitions.Add(context.Background(), 1, t.toOpts[to]...)
}

func (t *telemetry) rejected(ctx context.Context) {
	t.rejections.Add(ctx, 1, t.breakerOpts...)
}

func (t *telemetry) shutdown() error {
	return t.registration.Unregister()
}
