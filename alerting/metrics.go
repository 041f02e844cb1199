package alerting

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// Outcomes counted by obsd_alerts_sent_total.
const (
	OutcomeSuccess  = "success"  // accepted by the destination
	OutcomeRetry    = "retry"    // an attempt failed; the alerts stay queued
	OutcomeFallback = "fallback" // handed to the fallback destination
	OutcomeRejected = "rejected" // refused with a 4xx by every endpoint; dropped
	OutcomeDropped  = "dropped"  // outbox full (oldest dropped) or not writable
	OutcomeCorrupt  = "corrupt"  // a corrupt outbox file moved aside (counts files)
	// OutcomeSuperseded counts queued copies of an alert replaced by a newer
	// copy of the same alert in the same request.
	OutcomeSuperseded = "superseded"
)

// metrics holds the instruments of a Manager.
type metrics struct {
	sent metric.Int64Counter
	reg  metric.Registration
}

func newMetrics(mp metric.MeterProvider, m *Manager) (*metrics, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	meter := mp.Meter("github.com/obsd-dev/obsd/alerting")
	sent, err := meter.Int64Counter("obsd_alerts_sent_total",
		metric.WithDescription("Alerts handled by a destination, by outcome."), metric.WithUnit("{alert}"))
	if err != nil {
		return nil, fmt.Errorf("could not create obsd_alerts_sent_total: %w", err)
	}
	depth, err := meter.Int64ObservableGauge("obsd_alerts_queue_depth",
		metric.WithDescription("Alerts held in a destination's outbox."), metric.WithUnit("{alert}"))
	if err != nil {
		return nil, fmt.Errorf("could not create obsd_alerts_queue_depth: %w", err)
	}
	circuit, err := meter.Int64ObservableGauge(breakerstate.AlertingGauge,
		metric.WithDescription("Circuit breaker state of an endpoint: "+breakerstate.GaugeHelp+"."))
	if err != nil {
		return nil, fmt.Errorf("could not create %s: %w", breakerstate.AlertingGauge, err)
	}
	active, err := meter.Int64ObservableGauge("obsd_alerts_active",
		metric.WithDescription("Firing alerts, by severity."), metric.WithUnit("{alert}"))
	if err != nil {
		return nil, fmt.Errorf("could not create obsd_alerts_active: %w", err)
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, d := range m.dests {
			o.ObserveInt64(depth, int64(d.outbox.depth()), metric.WithAttributes(attribute.String("destination", d.name)))
			for _, ep := range d.endpoints {
				o.ObserveInt64(circuit, int64(ep.breaker.State()), metric.WithAttributes(attribute.String(breakerstate.AlertingGaugeLabel, ep.label)))
			}
		}
		for sev, n := range m.life.firingBySeverity() {
			o.ObserveInt64(active, int64(n), metric.WithAttributes(attribute.String("severity", sev)))
		}
		return nil
	}, depth, circuit, active)
	if err != nil {
		return nil, fmt.Errorf("could not register alerting gauges: %w", err)
	}
	return &metrics{sent: sent, reg: reg}, nil
}

func (m *metrics) count(dest, outcome string, n int) {
	if n <= 0 {
		return
	}
	m.sent.Add(context.Background(), int64(n), metric.WithAttributes(
		attribute.String("destination", dest), attribute.String("outcome", outcome)))
}
