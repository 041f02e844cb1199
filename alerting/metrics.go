package alerting

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/internal/instruments"
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

// scopeName is the instrumentation scope of alerting's metrics: its
// import path.
const scopeName = "github.com/obsd-dev/obsd/alerting"

func newMetrics(mp metric.MeterProvider, m *Manager) (*metrics, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	b := instruments.NewBuilder(mp, scopeName)
	sent := b.Int64Counter("obsd_alerts_sent_total",
		metric.WithDescription("Alerts handled by a destination, by outcome."), metric.WithUnit("{alert}"))
	depth := b.Int64ObservableGauge("obsd_alerts_queue_depth",
		metric.WithDescription("Alerts held in a destination's outbox."), metric.WithUnit("{alert}"))
	circuit := b.Int64ObservableGauge(breakerstate.AlertingGauge,
		metric.WithDescription("Circuit breaker state of an endpoint: "+breakerstate.GaugeHelp+"."))
	active := b.Int64ObservableGauge("obsd_alerts_active",
		metric.WithDescription("Firing alerts, by severity."), metric.WithUnit("{alert}"))
	reg := b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
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
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("could not set up alerting metrics: %w", err)
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
