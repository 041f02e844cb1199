package slo

import (
	"maps"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

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
	e.burn = gauge(contract.MetricBurnRate, "")
	e.budget = gauge(contract.MetricBudgetRemaining, "1")
	e.a = gauge(contract.MetricAlertActive, "")
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
