package sloconnector

import (
	"context"
	"maps"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/slo"
)

// Metric names, emitted to the next consumer and on obsd's /metrics.
const (
	metricObjective = "obsd_slo_objective_ratio"
	metricEvents    = "obsd_slo_events_total"
	metricBad       = "obsd_slo_bad_events_total"
	metricRatio     = "obsd_slo_sli_error_ratio"
	metricBurn      = "obsd_slo_burn_rate"
	metricBudget    = "obsd_slo_error_budget_remaining_ratio"
	metricAlert     = "obsd_slo_alert_active"
	metricPoints    = "obsd_slo_points_total"
	metricRestore   = "obsd_slo_state_restore_failures_total"
	metricOverflow  = "obsd_slo_group_overflow_total"
	// The reported period [start, end) in Unix seconds: the current
	// calendar period, or (now − period, now] for a rolling one.
	metricPeriodStart = "obsd_slo_period_start_seconds"
	metricPeriodEnd   = "obsd_slo_period_end_seconds"
)

// record is what one evaluation keeps of a Status (the Status is reused
// by the engine).
type record struct {
	labels    map[string]string // slo, service, SLO labels, group values
	objective float64
	events    float64
	bad       float64
	ratio     [len(slo.ReportWindows)]float64
	burn      [len(slo.ReportWindows)]float64
	budget    float64
	active    [2]bool
	// period bounds in Unix seconds
	periodStart, periodEnd float64
}

var severities = [2]string{"page", "ticket"}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func newRecord(st *slo.Status) record {
	l := make(map[string]string, len(st.Labels)+len(st.Group)+2)
	maps.Copy(l, st.Labels)
	maps.Copy(l, st.Group)
	l["slo"], l["service"] = st.SLO, st.Service
	r := record{labels: l, objective: st.Objective, events: st.Events, bad: st.BadEvents, budget: st.BudgetRemaining,
		periodStart: unixSeconds(st.PeriodStart), periodEnd: unixSeconds(st.PeriodEnd)}
	for i := range st.Windows {
		r.ratio[i], r.burn[i] = st.Windows[i].ErrorRatio, st.Windows[i].BurnRate
	}
	for i := range st.Alerts {
		r.active[i] = st.Alerts[i].State == slo.Firing
	}
	return r
}

// emitter builds the pdata metrics of one evaluation.
type emitter struct {
	md                                             pmetric.Metrics
	objective, events, bad, ratio, burn, budget, a pmetric.Metric
	periodStart, periodEnd                         pmetric.Metric
	ts, start                                      pcommon.Timestamp
}

func newEmitter(now, started time.Time) *emitter {
	e := &emitter{md: pmetric.NewMetrics(), ts: pcommon.NewTimestampFromTime(now), start: pcommon.NewTimestampFromTime(started)}
	rm := e.md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "obsd")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	ms := sm.Metrics()
	gauge := func(name, desc, unit string) pmetric.Metric {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetDescription(desc)
		m.SetUnit(unit)
		m.SetEmptyGauge()
		return m
	}
	counter := func(name, desc string) pmetric.Metric {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetDescription(desc)
		m.SetUnit("1")
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		return m
	}
	e.objective = gauge(metricObjective, "SLO objective as a ratio (0.999).", "1")
	e.events = counter(metricEvents, "Events counted by the SLO since it was created.")
	e.bad = counter(metricBad, "Bad events counted by the SLO since it was created.")
	e.ratio = gauge(metricRatio, "SLI error ratio over the window.", "1")
	e.burn = gauge(metricBurn, "Error budget burn rate over the window.", "1")
	e.budget = gauge(metricBudget, "Error budget remaining over the period (1 unspent, negative overspent).", "1")
	e.a = gauge(metricAlert, "1 while the SLO's alert of this severity is firing.", "1")
	e.periodStart = gauge(metricPeriodStart, periodStartDesc, "s")
	e.periodEnd = gauge(metricPeriodEnd, periodEndDesc, "s")
	return e
}

const (
	periodStartDesc = "Start of the SLO's reported period (the current calendar period, or now minus the rolling period), Unix seconds."
	periodEndDesc   = "End of the SLO's reported period (the end of the current calendar period, or now), Unix seconds."
)

func (e *emitter) point(m pmetric.Metric, r *record, v float64, key, val string) {
	var dp pmetric.NumberDataPoint
	if m.Type() == pmetric.MetricTypeSum {
		dp = m.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(e.start)
	} else {
		dp = m.Gauge().DataPoints().AppendEmpty()
	}
	dp.SetTimestamp(e.ts)
	dp.SetDoubleValue(v)
	attrs := dp.Attributes()
	attrs.EnsureCapacity(len(r.labels) + 1)
	for k, lv := range r.labels {
		attrs.PutStr(k, lv)
	}
	if key != "" {
		attrs.PutStr(key, val)
	}
}

func (e *emitter) add(r *record) {
	e.point(e.objective, r, r.objective, "", "")
	e.point(e.events, r, r.events, "", "")
	e.point(e.bad, r, r.bad, "", "")
	for i, w := range slo.ReportWindows {
		e.point(e.ratio, r, r.ratio[i], "window", w)
		e.point(e.burn, r, r.burn[i], "window", w)
	}
	e.point(e.budget, r, r.budget, "", "")
	e.point(e.periodStart, r, r.periodStart, "", "")
	e.point(e.periodEnd, r, r.periodEnd, "", "")
	for i, sev := range severities {
		e.point(e.a, r, b2f(r.active[i]), "severity", sev)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// telemetry exposes the last evaluation on obsd's own /metrics through
// observable instruments, plus obsd_slo_points_total{outcome}.
type telemetry struct {
	reg  metric.Registration
	mu   sync.Mutex
	recs []record
	sets []attribute.Set // per record: its label set
}

func newTelemetry(mp metric.MeterProvider, s *shared) (*telemetry, error) {
	t := &telemetry{}
	if mp == nil {
		return t, nil
	}
	m := mp.Meter(scopeName)
	var insts [12]metric.Observable
	var err error
	objective, err1 := m.Float64ObservableGauge(metricObjective, metric.WithDescription("SLO objective as a ratio (0.999)."))
	events, err2 := m.Float64ObservableCounter(metricEvents, metric.WithDescription("Events counted by the SLO since it was created."))
	bad, err3 := m.Float64ObservableCounter(metricBad, metric.WithDescription("Bad events counted by the SLO since it was created."))
	ratio, err4 := m.Float64ObservableGauge(metricRatio, metric.WithDescription("SLI error ratio over the window."))
	burn, err5 := m.Float64ObservableGauge(metricBurn, metric.WithDescription("Error budget burn rate over the window."))
	budget, err6 := m.Float64ObservableGauge(metricBudget, metric.WithDescription("Error budget remaining over the period."))
	active, err7 := m.Int64ObservableGauge(metricAlert, metric.WithDescription("1 while the SLO's alert of this severity is firing."))
	points, err8 := m.Int64ObservableCounter(metricPoints, metric.WithDescription("Data points and spans offered to the SLO engine, by outcome."))
	restore, err9 := m.Int64ObservableCounter(metricRestore, metric.WithDescription("State files (state=slo: the SLO snapshot, state=alerting: the alert state) unreadable at start; obsd started that state fresh."))
	overflow, err10 := m.Int64ObservableCounter(metricOverflow, metric.WithDescription("Data points, spans and log records of a grouped SLO counted in its overflow instance (group labels __overflow__) because the SLO reached its group_by_limit."))
	periodStart, err11 := m.Float64ObservableGauge(metricPeriodStart, metric.WithDescription(periodStartDesc), metric.WithUnit("s"))
	periodEnd, err12 := m.Float64ObservableGauge(metricPeriodEnd, metric.WithDescription(periodEndDesc), metric.WithUnit("s"))
	for _, e := range []error{err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12} {
		if e != nil {
			return nil, e
		}
	}
	insts = [12]metric.Observable{objective, events, bad, ratio, burn, budget, active, points, restore, overflow, periodStart, periodEnd}
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for outcome, n := range s.engine.Stats() {
			o.ObserveInt64(points, int64(n), metric.WithAttributes(attribute.String("outcome", outcome)))
		}
		o.ObserveInt64(points, int64(s.own[0].Load()), metric.WithAttributes(attribute.String("outcome", outcomeFuture)))
		o.ObserveInt64(points, int64(s.own[1].Load()), metric.WithAttributes(attribute.String("outcome", outcomeBadBoundary)))
		o.ObserveInt64(points, int64(s.own[outMalformed].Load()), metric.WithAttributes(attribute.String("outcome", outcomeMalformed)))
		for _, c := range s.slos {
			if len(c.spec.GroupBy()) > 0 {
				o.ObserveInt64(overflow, int64(s.overflow[c.idx].Load()), metric.WithAttributes(attribute.String("slo", c.spec.Name)))
			}
		}
		o.ObserveInt64(restore, int64(s.restoreFailures[0].Load()), metric.WithAttributes(attribute.String("state", "slo")))
		o.ObserveInt64(restore, int64(s.restoreFailures[1].Load()), metric.WithAttributes(attribute.String("state", "alerting")))
		t.mu.Lock()
		defer t.mu.Unlock()
		for i := range t.recs {
			r, set := &t.recs[i], t.sets[i]
			base := metric.WithAttributeSet(set)
			o.ObserveFloat64(objective, r.objective, base)
			o.ObserveFloat64(events, r.events, base)
			o.ObserveFloat64(bad, r.bad, base)
			o.ObserveFloat64(budget, r.budget, base)
			o.ObserveFloat64(periodStart, r.periodStart, base)
			o.ObserveFloat64(periodEnd, r.periodEnd, base)
			for w, name := range slo.ReportWindows {
				with := metric.WithAttributes(append(set.ToSlice(), attribute.String("window", name))...)
				o.ObserveFloat64(ratio, r.ratio[w], with)
				o.ObserveFloat64(burn, r.burn[w], with)
			}
			for sev, name := range severities {
				o.ObserveInt64(active, int64(b2f(r.active[sev])), metric.WithAttributes(append(set.ToSlice(), attribute.String("severity", name))...))
			}
		}
		return nil
	}, insts[:]...)
	return t, err
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
