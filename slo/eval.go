package slo

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Every Status reports the windows contract.Windows, in that order; the
// last one, WindowPeriod, is the SLO's period. reportDurations are the
// others' lengths.
var reportDurations = [len(contract.Windows) - 1]time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}

// WindowPeriod is the index of the period window in Status.Windows.
const WindowPeriod = len(contract.Windows) - 1

// WindowRecent is the index of the window whose burn rate projects the
// time to exhaustion: the last hour, "how long at the current rate". (At
// the period's own burn rate the projection is degenerate: the budget
// either is already spent or lasts the whole period.)
const WindowRecent = 2

// WindowResult is one window's numbers. With no events, ErrorRatio and
// BurnRate are 0 and NoData is true: never NaN or Inf.
type WindowResult struct {
	Name                 string
	Window               time.Duration
	Total, Bad           float64
	ErrorRatio, BurnRate float64
	NoData               bool
}

// Status is everything the engine knows about one instance at one
// evaluation; the connector turns it into obsd_slo_* metrics.
type Status struct {
	// Service is the SLO's service, or the instance's group value of
	// contract.LabelService when the SLO is grouped by it.
	SLO, Service string
	// Group holds the group-by attribute values (nil without group_by).
	Group  map[string]string
	Labels map[string]string
	// Objective is the target ratio, e.g. 0.999.
	Objective float64
	At        time.Time
	// Events and BadEvents count every accepted event since the
	// instance was created (restored across restarts): counters.
	Events, BadEvents float64
	Windows           [len(contract.Windows)]WindowResult
	// BudgetRemaining is 1 - period error ratio / (1 - objective): 1 with
	// no errors, 0 when spent, negative when overspent. For a calendar
	// SLO the period is the current calendar period; for time slices the
	// period window counts slices (Total: slices with events, Bad: bad
	// slices, or the sum of slice error ratios with ratio_timeslices).
	BudgetRemaining float64
	// TimeToExhaustion is how long the remaining budget lasts at the last
	// hour's burn rate (WindowRecent); <0 when not exhausting (burn ≤ 1,
	// or for a calendar period: not before the period resets).
	TimeToExhaustion time.Duration
	// PeriodStart and PeriodEnd bound the reported period: the current
	// calendar period [start, end), or (At − period, At] when rolling.
	PeriodStart, PeriodEnd time.Time
	// NoData is true when the 5m window saw no event.
	NoData bool
	Alerts [2]AlertStatus
	// Extra are the windows of the SLO's enabled alert pairs that are not
	// among Windows (e.g. a custom 2m short window), shortest first, each
	// named by contract.WindowLabel. Windows and Extra together are every
	// window a burn-rate alert of the SLO reads.
	Extra []WindowResult
	// DurableEvents and DurableBadEvents are Events and BadEvents as of the
	// last snapshot written (WriteSnapshot returned nil) or restored: after
	// a crash and restart the counters start again from at least these
	// values, so a counter exported from them never goes down.
	DurableEvents, DurableBadEvents float64
	// CountingSince is when the instance began counting (its creation, kept
	// across restarts by the snapshot): the start time of the cumulative
	// Events and BadEvents.
	CountingSince time.Time
}

// sloDef is an SLO with its precomputed layout.
type sloDef struct {
	index  int
	spec   *spec.SLO
	layout *layout
	report [len(contract.Windows)]int
	// extra are the layout indices of the alert windows not reported in
	// Windows, shortest first, and extraNames their labels.
	extra      []int
	extraNames []string
	budget     float64
	sev        [2]sevDef
	// grouped counts the SLO's group instances (overflow excluded),
	// against its group_by cap spec.Limit().
	grouped int
	// nameHash names the SLO in journal records (HashString of its name).
	nameHash uint64
}

type sevDef struct {
	enabled     bool
	pairs       []pairDef
	annotations map[string]string
}

type pairDef struct {
	long, short int // window indices
	p           spec.WindowPair
	// forDur is how long the pair must hold before it fires (ns):
	// spec.Severity.PairFor.
	forDur int64
}

func newSLODef(i int, s *spec.SLO) *sloDef {
	durs := append(reportDurations[:0:0], reportDurations[:]...)
	durs = append(durs, s.Period)
	sevs := [2]spec.Severity{s.Alerting.Page, s.Alerting.Ticket}
	for _, sv := range sevs {
		for _, p := range sv.Windows {
			durs = append(durs, p.Long, p.Short)
		}
	}
	d := &sloDef{index: i, spec: s, layout: newLayout(durs, s.Period), budget: errorBudget(s.Objective), nameHash: HashString(HashSeed, s.Name)}
	newPeriodLayout(d.layout, s)
	for w := range d.report {
		d.report[w] = d.layout.byDur[durs[w]]
	}
	d.extra, d.extraNames = extraWindows(d.layout, sevs)
	for k, sv := range sevs {
		sd := sevDef{enabled: sv.Enabled && len(sv.Windows) > 0, annotations: map[string]string{}}
		maps.Copy(sd.annotations, s.Alerting.Annotations)
		maps.Copy(sd.annotations, sv.Annotations)
		if s.Alerting.RunbookURL != "" {
			sd.annotations["runbook_url"] = s.Alerting.RunbookURL
		}
		for j, p := range sv.Windows {
			sd.pairs = append(sd.pairs, pairDef{long: d.layout.byDur[p.Long], short: d.layout.byDur[p.Short], p: p, forDur: int64(sv.PairFor(j))})
		}
		d.sev[k] = sd
	}
	return d
}

// extraWindows lists the windows of the enabled severities' pairs that are
// not report windows, shortest first, with their labels.
func extraWindows(l *layout, sevs [2]spec.Severity) ([]int, []string) {
	var ds []time.Duration
	for _, sv := range sevs {
		if !sv.Enabled {
			continue
		}
		for _, p := range sv.Windows {
			for _, d := range []time.Duration{p.Long, p.Short} {
				if !slices.Contains(reportDurations[:], d) && !slices.Contains(ds, d) {
					ds = append(ds, d)
				}
			}
		}
	}
	slices.Sort(ds)
	idx := make([]int, len(ds))
	names := make([]string, len(ds))
	for i, d := range ds {
		idx[i], names[i] = l.byDur[d], contract.WindowLabel(d)
	}
	return idx, names
}

func (d *sloDef) alertLabels(sev int, group map[string]string) map[string]string {
	return AlertLabels(d.spec, sev, group)
}

// AlertLabels are the labels the transitions of severity sev (Page or
// Ticket) of an instance of s carry (contract.Transition.Labels): the
// SLO's labels, the instance's group values, the alerting labels and the
// severity's labels, later ones winning.
func AlertLabels(s *spec.SLO, sev int, group map[string]string) map[string]string {
	m := map[string]string{}
	maps.Copy(m, s.Labels)
	maps.Copy(m, group)
	maps.Copy(m, s.Alerting.Labels)
	if sev == Page {
		maps.Copy(m, s.Alerting.Page.Labels)
	} else {
		maps.Copy(m, s.Alerting.Ticket.Labels)
	}
	return m
}

// windowResult computes one window's numbers without NaN or Inf.
// budget is the error budget 1 - objective, rounded to 12 decimals so
// that 1 - 0.99 is 0.01 and not 0.010000000000000009.
func errorBudget(objective float64) float64 { return math.Round((1-objective)*1e12) / 1e12 }

func windowResult(total, bad, budget float64) (ratio, burn float64, noData bool) {
	if !(total > 0) {
		return 0, 0, true
	}
	ratio = bad / total
	switch {
	case !(ratio > 0): // also NaN
		ratio = 0
	case ratio > 1:
		ratio = 1
	}
	return ratio, ratio / budget, false
}

// result is the result of layout window w of an instance.
func (d *sloDef) result(in *Instance, w int, name string) WindowResult {
	sum := in.acc.sums[w]
	r := WindowResult{Name: name, Window: time.Duration(d.layout.windows[w].d), Total: sum.total, Bad: sum.bad}
	r.ErrorRatio, r.BurnRate, r.NoData = windowResult(sum.total, sum.bad, d.budget)
	return r
}

// evaluate fills e.status for instance in and steps its alerts.
func (e *Engine) evaluate(in *Instance, t int64, now time.Time) {
	d := in.slo
	s := d.spec
	in.acc.advance(t)
	st := &e.status
	*st = Status{SLO: s.Name, Service: in.service, Group: in.group, Labels: s.Labels, Objective: s.Objective, At: now,
		Events: in.acc.events, BadEvents: in.acc.badEvents, DurableEvents: in.durable[0], DurableBadEvents: in.durable[1],
		CountingSince: time.Unix(0, in.created).UTC(), Extra: e.extra[:0]}
	for i, w := range d.report {
		st.Windows[i] = d.result(in, w, contract.Windows[i])
	}
	for i, w := range d.extra {
		st.Extra = append(st.Extra, d.result(in, w, d.extraNames[i]))
	}
	e.extra = st.Extra
	st.PeriodStart, st.PeriodEnd = in.periodBounds(now)
	if in.acc.cal != nil || in.acc.slices != nil {
		p := &st.Windows[WindowPeriod]
		p.Total, p.Bad = in.acc.periodSums(d.report[WindowPeriod])
		p.ErrorRatio, p.BurnRate, p.NoData = windowResult(p.Total, p.Bad, d.budget)
		if in.acc.cal != nil {
			p.Window = st.PeriodEnd.Sub(st.PeriodStart)
		}
	}
	period := st.Windows[WindowPeriod]
	st.BudgetRemaining = 1 - period.BurnRate
	st.TimeToExhaustion = in.exhaustion(st.BudgetRemaining, st.Windows[WindowRecent].BurnRate, now)
	st.NoData = st.Windows[0].NoData
	for sev := range in.alerts {
		e.stepAlert(in, sev, t, now)
	}
}

// exhaustion is how long the remaining budget lasts at burn rate burn.
func exhaustion(remaining, burn float64, period time.Duration) time.Duration {
	if remaining <= 0 {
		return 0
	}
	if burn <= 1 {
		return -1
	}
	return time.Duration(remaining * float64(period) / burn)
}

// pairHolds reports whether pair i's condition holds; when firing, the
// hysteresis ratio lowers the bar.
func (e *Engine) pairHolds(in *Instance, p *pairDef, firing bool) bool {
	// A relative epsilon so that sums landing a hair under an exact
	// factor (14.4 summed in float64) still count as reaching it.
	ratio := 1 - 1e-9
	if firing {
		ratio = e.resolve * (1 - 1e-9)
	}
	minEv := in.slo.spec.Alerting.MinEvents
	l, sh := in.acc.sums[p.long], in.acc.sums[p.short]
	if l.total < minEv || sh.total < minEv || l.total <= 0 || sh.total <= 0 {
		return false
	}
	_, bl, _ := windowResult(l.total, l.bad, in.slo.budget)
	_, bs, _ := windowResult(sh.total, sh.bad, in.slo.budget)
	return bl >= ratio*p.p.Factor && bs >= ratio*p.p.Factor
}

// trackPairs updates when each pair began to hold (a.pairSince, 0 while it
// does not) and reports the pair to show (the first that is ripe, else
// the first that holds), whether any pair holds, and whether one has held
// for its own 'for' (ripe). Each pair keeps its own pending time, as each
// exported rule keeps its own in Prometheus.
func (e *Engine) trackPairs(in *Instance, sd *sevDef, a *alertState, t int64, inhibited bool) (show int, holds, ripe bool) {
	if len(a.pairSince) != len(sd.pairs) {
		// First step, a restored snapshot without pair times, or a reload
		// that changed the pairs: a pair that holds now counts from when
		// the severity became pending.
		a.pairSince = make([]int64, len(sd.pairs))
		if a.state == Pending || a.state == Firing {
			for i := range a.pairSince {
				a.pairSince[i] = a.pendingSince
			}
		}
	}
	firstHolding := -1
	show = 0
	for i := range sd.pairs {
		p := &sd.pairs[i]
		if inhibited || !e.pairHolds(in, p, a.state == Firing) {
			a.pairSince[i] = 0
			continue
		}
		if a.pairSince[i] == 0 {
			a.pairSince[i] = t
		}
		if firstHolding < 0 {
			firstHolding = i
		}
		if !ripe && t-a.pairSince[i] >= p.forDur {
			ripe, show = true, i
		}
	}
	if firstHolding >= 0 && !ripe {
		show = firstHolding
	}
	return show, firstHolding >= 0, ripe
}

// stepAlert runs one severity's state machine and records a transition.
func (e *Engine) stepAlert(in *Instance, sev int, t int64, now time.Time) {
	sd := &in.slo.sev[sev]
	a := &in.alerts[sev]
	st := &e.status
	st.Alerts[sev] = AlertStatus{Severity: contract.Severities[sev], Enabled: sd.enabled}
	if !sd.enabled {
		// A severity disabled by a reload resolves what it had firing.
		if a.state == Firing {
			a.state = Resolved
			e.trans = append(e.trans, e.transition(in, sev, 0, now))
		} else {
			a.state = Inactive
		}
		st.Alerts[sev].State = a.state
		return
	}
	inhibited := sev == Ticket && (in.alerts[Page].state == Pending || in.alerts[Page].state == Firing)
	// Inhibition keeps an inactive ticket from becoming pending; one
	// already pending or firing goes on on its own terms.
	pair, ok, ripe := e.trackPairs(in, sd, a, t, inhibited && (a.state == Inactive || a.state == Resolved))
	prev := a.state
	switch a.state {
	case Inactive, Resolved:
		a.state = Inactive
		if ok {
			a.pendingSince = t
			if ripe {
				a.state, a.activeSince = Firing, t
			} else {
				a.state = Pending
			}
		}
	case Pending:
		switch {
		case !ok:
			a.state = Inactive
		case ripe:
			a.state, a.activeSince = Firing, t
		}
	case Firing:
		if !ok {
			a.state = Resolved
		}
	}
	st.Alerts[sev].State, st.Alerts[sev].Pair, st.Alerts[sev].Holds = a.state, pair, ok
	switch a.state {
	case Pending:
		st.Alerts[sev].Since = time.Unix(0, a.pendingSince)
	case Firing, Resolved:
		st.Alerts[sev].Since = time.Unix(0, a.activeSince)
	}
	if a.state != prev && (a.state == Pending || a.state == Firing || a.state == Resolved) {
		e.trans = append(e.trans, e.transition(in, sev, pair, now))
	}
}

func (e *Engine) transition(in *Instance, sev, pair int, now time.Time) contract.Transition {
	sd := &in.slo.sev[sev]
	s := in.slo.spec
	a := in.alerts[sev]
	var p pairDef
	var l, sh winSum
	if pair < len(sd.pairs) {
		p = sd.pairs[pair]
		l, sh = in.acc.sums[p.long], in.acc.sums[p.short]
	}
	_, bl, _ := windowResult(l.total, l.bad, in.slo.budget)
	_, bs, _ := windowResult(sh.total, sh.bad, in.slo.budget)
	since := a.activeSince
	if a.state == Pending {
		since = a.pendingSince
	}
	tte := in.exhaustion(e.status.BudgetRemaining, bl, now)
	return contract.Transition{SLO: s.Name, Service: in.service, Labels: in.labels[sev], Annotations: sd.annotations,
		Severity: contract.Severities[sev], State: a.state.String(), LongWindow: p.p.Long, ShortWindow: p.p.Short,
		BurnRateLong: bl, BurnRateShort: bs, Threshold: p.p.Factor, Objective: s.Objective,
		BudgetRemaining: e.status.BudgetRemaining, TimeToExhaustion: tte,
		Events: l.total, BadEvents: math.Max(l.bad, 0), ActiveSince: time.Unix(0, since).UTC(), At: now}
}
