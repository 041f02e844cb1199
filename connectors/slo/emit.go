package slo

import (
	"context"
	"maps"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
)

// record is what one evaluation keeps of a Status (the Status is reused
// by the engine).
type record struct {
	labels    map[string]string // slo, service, SLO labels, group values
	objective float64
	events    float64
	bad       float64
	ratio     [len(contract.Windows)]float64
	burn      [len(contract.Windows)]float64
	budget    float64
	active    [2]bool
	// period bounds in Unix seconds
	periodStart, periodEnd float64
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func newRecord(st *sloengine.Status) record {
	l := make(map[string]string, len(st.Labels)+len(st.Group)+2)
	maps.Copy(l, st.Labels)
	maps.Copy(l, st.Group)
	l[contract.LabelSLO], l[contract.LabelService] = st.SLO, st.Service
	r := record{labels: l, objective: st.Objective, events: st.Events, bad: st.BadEvents, budget: st.BudgetRemaining,
		periodStart: unixSeconds(st.PeriodStart), periodEnd: unixSeconds(st.PeriodEnd)}
	for i := range st.Windows {
		r.ratio[i], r.burn[i] = st.Windows[i].ErrorRatio, st.Windows[i].BurnRate
	}
	for i := range st.Alerts {
		r.active[i] = st.Alerts[i].State == sloengine.Firing
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
	gauge := func(name, unit string) pmetric.Metric {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetDescription(contract.Help(name))
		m.SetUnit(unit)
		m.SetEmptyGauge()
		return m
	}
	counter := func(name string) pmetric.Metric {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetDescription(contract.Help(name))
		m.SetUnit("1")
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		return m
	}
	e.objective = gauge(contract.MetricObjective, "1")
	e.events = counter(contract.MetricEvents)
	e.bad = counter(contract.MetricBadEvents)
	e.ratio = gauge(contract.MetricErrorRatio, "1")
	e.burn = gauge(contract.MetricBurnRate, "1")
	e.budget = gauge(contract.MetricBudgetRemaining, "1")
	e.a = gauge(contract.MetricAlertActive, "1")
	e.periodStart = gauge(contract.MetricPeriodStart, "s")
	e.periodEnd = gauge(contract.MetricPeriodEnd, "s")
	return e
}

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
	for i, w := range contract.Windows {
		e.point(e.ratio, r, r.ratio[i], contract.LabelWindow, w)
		e.point(e.burn, r, r.burn[i], contract.LabelWindow, w)
	}
	e.point(e.budget, r, r.budget, "", "")
	e.point(e.periodStart, r, r.periodStart, "", "")
	e.point(e.periodEnd, r, r.periodEnd, "", "")
	for i, sev := range contract.Severities {
		e.point(e.a, r, b2f(r.active[i]), contract.LabelSeverity, sev)
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
	help := func(name string) metric.InstrumentOption { return metric.WithDescription(contract.Help(name)) }
	objective, err1 := m.Float64ObservableGauge(contract.MetricObjective, help(contract.MetricObjective))
	events, err2 := m.Float64ObservableCounter(contract.MetricEvents, help(contract.MetricEvents))
	bad, err3 := m.Float64ObservableCounter(contract.MetricBadEvents, help(contract.MetricBadEvents))
	ratio, err4 := m.Float64ObservableGauge(contract.MetricErrorRatio, help(contract.MetricErrorRatio))
	burn, err5 := m.Float64ObservableGauge(contract.MetricBurnRate, help(contract.MetricBurnRate))
	budget, err6 := m.Float64ObservableGauge(contract.MetricBudgetRemaining, help(contract.MetricBudgetRemaining))
	active, err7 := m.Int64ObservableGauge(contract.MetricAlertActive, help(contract.MetricAlertActive))
	points, err8 := m.Int64ObservableCounter(contract.MetricPoints, help(contract.MetricPoints))
	restore, err9 := m.Int64ObservableCounter(contract.MetricRestoreFailures, help(contract.MetricRestoreFailures))
	overflow, err10 := m.Int64ObservableCounter(contract.MetricGroupOverflow, help(contract.MetricGroupOverflow))
	periodStart, err11 := m.Float64ObservableGauge(contract.MetricPeriodStart, help(contract.MetricPeriodStart), metric.WithUnit("s"))
	periodEnd, err12 := m.Float64ObservableGauge(contract.MetricPeriodEnd, help(contract.MetricPeriodEnd), metric.WithUnit("s"))
	for _, e := range []error{err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12} {
		if e != nil {
			return nil, e
		}
	}
	insts = [12]metric.Observable{objective, events, bad, ratio, burn, budget, active, points, restore, overflow, periodStart, periodEnd}
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for outcome, n := range s.engine.Stats() {
			o.ObserveInt64(points, int64(n), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcome)))
		}
		o.ObserveInt64(points, int64(s.own[0].Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeFuture)))
		o.ObserveInt64(points, int64(s.own[1].Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeBadBoundary)))
		o.ObserveInt64(points, int64(s.own[outMalformed].Load()), metric.WithAttributes(attribute.String(contract.LabelOutcome, outcomeMalformed)))
		for _, c := range s.slos {
			if len(c.spec.GroupBy()) > 0 {
				o.ObserveInt64(overflow, int64(s.overflow[c.idx].Load()), metric.WithAttributes(attribute.String(contract.LabelSLO, c.spec.Name)))
			}
		}
		o.ObserveInt64(restore, int64(s.restoreFailures[0].Load()), metric.WithAttributes(attribute.String(contract.LabelState, contract.StateFileSLO)))
		o.ObserveInt64(restore, int64(s.restoreFailures[1].Load()), metric.WithAttributes(attribute.String(contract.LabelState, contract.StateFileAlerting)))
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
