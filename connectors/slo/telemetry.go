package slo

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
	"github.com/obsd-dev/obsd/slo/contract"
)

// telemetry exposes the last evaluation on obsd's own /metrics through
// observable instruments, plus obsd_slo_points_total{outcome}.
type telemetry struct {
	reg  metric.Registration
	mu   sync.Mutex
	recs []record
	sets []attribute.Set // per record: its label set
}

func newTelemetry(mp metric.MeterProvider, s *runner) (*telemetry, error) {
	t := &telemetry{}
	if mp == nil {
		return t, nil
	}
	b := instruments.NewBuilder(mp, scopeName)
	help := func(name string) metric.InstrumentOption { return metric.WithDescription(contract.Help(name)) }
	objective := b.Float64ObservableGauge(contract.MetricObjective, help(contract.MetricObjective))
	events := b.Float64ObservableCounter(contract.MetricEvents, help(contract.MetricEvents))
	bad := b.Float64ObservableCounter(contract.MetricBadEvents, help(contract.MetricBadEvents))
	ratio := b.Float64ObservableGauge(contract.MetricErrorRatio, help(contract.MetricErrorRatio))
	burn := b.Float64ObservableGauge(contract.MetricBurnRate, help(contract.MetricBurnRate))
	budget := b.Float64ObservableGauge(contract.MetricBudgetRemaining, help(contract.MetricBudgetRemaining))
	active := b.Int64ObservableGauge(contract.MetricAlertActive, help(contract.MetricAlertActive))
	points := b.Int64ObservableCounter(contract.MetricPoints, help(contract.MetricPoints))
	restore := b.Int64ObservableCounter(contract.MetricRestoreFailures, help(contract.MetricRestoreFailures))
	overflow := b.Int64ObservableCounter(contract.MetricGroupOverflow, help(contract.MetricGroupOverflow))
	journaled := b.Int64ObservableCounter(contract.MetricJournalRecords, help(contract.MetricJournalRecords))
	periodStart := b.Float64ObservableGauge(contract.MetricPeriodStart, help(contract.MetricPeriodStart), metric.WithUnit("s"))
	periodEnd := b.Float64ObservableGauge(contract.MetricPeriodEnd, help(contract.MetricPeriodEnd), metric.WithUnit("s"))
	winEvents := b.Float64ObservableGauge(contract.MetricWindowEvents, help(contract.MetricWindowEvents))
	winBad := b.Float64ObservableGauge(contract.MetricWindowBadEvents, help(contract.MetricWindowBadEvents))
	local := s.cfg.decidesLocally()
	t.reg = b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for outcome, n := range s.engine.Stats() {
			o.ObserveInt64(points, int64(n), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcome)))
		}
		o.ObserveInt64(points, int64(s.own.future.Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeFuture)))
		o.ObserveInt64(points, int64(s.own.badBoundary.Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeBadBoundary)))
		o.ObserveInt64(points, int64(s.own.malformed.Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeMalformed)))
		o.ObserveInt64(points, int64(s.own.gameday.Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeGameday)))
		o.ObserveInt64(points, int64(s.own.gamedayDropped.Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeGamedayDropped)))
		for _, c := range s.slos {
			if len(c.spec.GroupBy()) > 0 {
				o.ObserveInt64(overflow, int64(s.overflow[c.idx].Load()), metric.WithAttributes(attribute.String(contract.LabelSLO, c.spec.Name)))
			}
		}
		if j := s.journal.Load(); j != nil {
			j.counts.observe(o, journaled)
		}
		o.ObserveInt64(restore, int64(s.restoreFailures.slo.Load()), metric.WithAttributes(attribute.String(contract.LabelState, contract.StateFileSLO)))
		o.ObserveInt64(restore, int64(s.restoreFailures.alerting.Load()), metric.WithAttributes(attribute.String(contract.LabelState, contract.StateFileAlerting)))
		t.mu.Lock()
		defer t.mu.Unlock()
		for i := range t.recs {
			r, set := &t.recs[i], t.sets[i]
			base := metric.WithAttributeSet(set)
			o.ObserveFloat64(objective, r.objective, base)
			o.ObserveFloat64(events, r.events, base)
			o.ObserveFloat64(bad, r.bad, base)
			for _, ws := range r.sums {
				with := metric.WithAttributes(append(set.ToSlice(), attribute.String(contract.LabelWindow, ws.window))...)
				o.ObserveFloat64(winEvents, ws.total, with)
				o.ObserveFloat64(winBad, ws.bad, with)
			}
			if !local {
				continue // one node's share: the ruler's rules hold the rest
			}
			o.ObserveFloat64(budget, r.budget, base)
			o.ObserveFloat64(periodStart, r.periodStart, base)
			o.ObserveFloat64(periodEnd, r.periodEnd, base)
			for w, name := range contract.Windows {
				with := metric.WithAttributes(append(set.ToSlice(), attribute.String(contract.LabelWindow, name))...)
				o.ObserveFloat64(ratio, r.ratio[w], with)
				o.ObserveFloat64(burn, r.burn[w], with)
			}
			for sev, name := range contract.Severities {
				o.ObserveInt64(active, int64(b2f(r.active[sev])), metric.WithAttributes(append(set.ToSlice(), attribute.String(contract.LabelSeverity, name))...))
			}
		}
		return nil
	}, objective, events, bad, ratio, burn, budget, active, points, restore, overflow, journaled, periodStart, periodEnd, winEvents, winBad)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// setRecords replaces the observed evaluation.
func (t *telemetry) setRecords(recs []record) {
	sets := make([]attribute.Set, len(recs))
	for i := range recs {
		kvs := make([]attribute.KeyValue, 0, len(recs[i].labels))
		for k, v := range recs[i].labels {
			kvs = append(kvs, attribute.String(k, v))
		}
		sets[i] = attribute.NewSet(kvs...)
	}
	t.mu.Lock()
	t.recs, t.sets = recs, sets
	t.mu.Unlock()
}

func (t *telemetry) unregister() error {
	if t.reg == nil {
		return nil
	}
	return t.reg.Unregister()
}
