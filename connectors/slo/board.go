package slo

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/alerting"
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
	"github.com/obsd-dev/obsd/slo/status"
)

const (
	// historyPoints bounds each instance's chart history: one point per
	// period/historyPoints, so the ring covers the whole period.
	historyPoints = 360
	// maxHistories bounds how many instances keep a history (64 bytes a
	// point: at most 128 × 360 × 64 B ≈ 2.9 MiB); instances beyond it
	// show their current status only.
	maxHistories = 128
	// maxAlertEvents bounds the alert history kept for the status page.
	maxAlertEvents = 200
)

// board keeps what obsd's status page shows of this connector: the last
// status of every SLO instance, a bounded history per instance, and the
// recent alert transitions with their receivers. It implements
// status.SLOSource and registers with a statuspage extension on Start.
type board struct {
	id     string
	alerts *alerting.Manager
	// mode is where alerts are decided (contract.Alerts*).
	mode  string
	specs map[string]*boardSpec

	mu         sync.Mutex
	slos       map[string]*boardEntry
	histories  int                 // entries with a history, at most maxHistories
	events     []status.AlertEvent // ring of maxAlertEvents, oldest at next when full
	next       int
	unregister func()
}

// boardSpec is an SLO's spec with what the page shows of it that does not
// change between evaluations, computed once.
type boardSpec struct {
	*spec.SLO
	dashboardPath string
	thresholds    []status.Threshold // shared by every entry: never mutated
}

type boardEntry struct {
	cur  status.SLO
	hist *status.History
}

var _ status.SLOSource = (*board)(nil)

func newBoard(id component.ID, specs []*spec.SLO, alerts *alerting.Manager, mode string) *board {
	b := &board{id: id.String(), alerts: alerts, mode: mode, specs: map[string]*boardSpec{}, slos: map[string]*boardEntry{}}
	for _, sp := range specs {
		b.specs[sp.Name] = &boardSpec{SLO: sp, dashboardPath: contract.DashboardPath(sp.Name), thresholds: thresholds(sp)}
	}
	return b
}

// register finds the first extension implementing status.Registry and
// registers the board with it, once.
func (b *board) register(host component.Host) {
	if host == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.unregister != nil {
		return
	}
	exts := host.GetExtensions()
	ids := slices.SortedFunc(maps.Keys(exts), func(x, y component.ID) int { return strings.Compare(x.String(), y.String()) })
	for _, id := range ids {
		if r, ok := exts[id].(status.Registry); ok {
			b.unregister = r.RegisterSLOSource(b.id, b)
			return
		}
	}
}

// deregister removes the board from the status page, if registered.
func (b *board) deregister() {
	b.mu.Lock()
	u := b.unregister
	b.unregister = nil
	b.mu.Unlock()
	if u != nil {
		u()
	}
}

// observe records one evaluated Status (reused by the engine: copied).
func (b *board) observe(st *sloengine.Status) {
	sp := b.specs[st.SLO]
	cur := status.SLO{Name: st.SLO, Service: st.Service, Instance: groupString(st.Group), Group: maps.Clone(st.Group),
		Objective: st.Objective, BudgetRemaining: st.BudgetRemaining, TimeToExhaustion: status.Duration(st.TimeToExhaustion),
		Events: st.Events, BadEvents: st.BadEvents, NoData: st.NoData, At: st.At, Source: b.id,
		State: contract.StateInactive, Windows: make([]status.Window, 0, len(st.Windows)),
		Alerts: make([]status.AlertStatus, 0, len(st.Alerts)), AlertsDecidedBy: b.mode}
	for _, w := range st.Windows {
		cur.Windows = append(cur.Windows, status.Window{Name: w.Name, ErrorRatio: w.ErrorRatio, BurnRate: w.BurnRate, NoData: w.NoData})
	}
	for _, a := range st.Alerts {
		if b.mode == contract.AlertsRuler {
			break // this agent's share of the traffic decides nothing
		}
		as := status.AlertStatus{Severity: a.Severity, State: a.State.String(), Enabled: a.Enabled}
		if a.State != sloengine.Inactive {
			as.Since = a.Since.UTC()
		}
		cur.Alerts = append(cur.Alerts, as)
		if status.StateRank(as.State) > status.StateRank(cur.State) {
			cur.State = as.State
		}
	}
	if sp != nil {
		cur.Period, cur.Description, cur.RunbookURL = status.Duration(sp.Period), sp.Description, sp.Alerting.RunbookURL
		cur.Thresholds, cur.DashboardPath = sp.thresholds, sp.dashboardPath
	} else {
		cur.DashboardPath = contract.DashboardPath(st.SLO)
	}
	p := status.Point{At: st.At, SLI: 1 - st.Windows[0].ErrorRatio, NoData: st.Windows[0].NoData,
		BurnShort: st.Windows[0].BurnRate, BurnLong: st.Windows[2].BurnRate, Budget: st.BudgetRemaining}
	b.mu.Lock()
	defer b.mu.Unlock()
	key := cur.Key()
	e := b.slos[key]
	if e == nil {
		e = &boardEntry{}
		if b.histories < maxHistories {
			step := time.Duration(0)
			if sp != nil {
				step = sp.Period / historyPoints
			}
			e.hist = status.NewHistory(historyPoints, step)
			b.histories++
		}
		b.slos[key] = e
	}
	e.cur = cur
	if e.hist != nil {
		e.hist.Add(p)
	}
}

// placeholder is an SLO that has seen no event yet (no instance exists):
// listed with no data, so the page shows every SLO of the files.
func (b *board) placeholder(sp *boardSpec) status.SLO {
	s := status.SLO{Name: sp.Name, Service: sp.Service, Description: sp.Description, Objective: sp.Objective,
		Period: status.Duration(sp.Period), BudgetRemaining: 1, TimeToExhaustion: -1, NoData: true,
		State: contract.StateInactive, Alerts: []status.AlertStatus{}, Thresholds: sp.thresholds,
		RunbookURL: sp.Alerting.RunbookURL, DashboardPath: sp.dashboardPath, Source: b.id, AlertsDecidedBy: b.mode}
	for _, w := range contract.Windows {
		s.Windows = append(s.Windows, status.Window{Name: w, NoData: true})
	}
	return s
}

// thresholds lists the enabled burn-rate conditions of a spec.
func thresholds(sp *spec.SLO) []status.Threshold {
	var out []status.Threshold
	for i, sv := range [2]spec.Severity{sp.Alerting.Page, sp.Alerting.Ticket} {
		if !sv.Enabled {
			continue
		}
		for _, w := range sv.Windows {
			out = append(out, status.Threshold{Severity: contract.Severities[i], Long: status.Duration(w.Long),
				Short: status.Duration(w.Short), BurnRate: w.Factor})
		}
	}
	return out
}

// record keeps the transitions of one evaluation with their receivers.
func (b *board) record(ts []contract.Transition) {
	if len(ts) == 0 {
		return
	}
	evs := make([]status.AlertEvent, 0, len(ts))
	for _, t := range ts {
		ev := status.AlertEvent{Transition: t, Instance: groupString(b.group(t)), Source: b.id, Receivers: []string{}}
		ev.At = t.At.UTC()
		if b.alerts != nil && t.State != contract.StatePending {
			ev.Receivers = b.alerts.Receivers(t)
		}
		evs = append(evs, ev)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range evs {
		if len(b.events) < maxAlertEvents {
			b.events = append(b.events, ev)
			continue
		}
		b.events[b.next] = ev
		b.next = (b.next + 1) % maxAlertEvents
	}
}

// group recovers the group-by values of a transition: its labels that are
// group-by keys of the SLO's SLI, and the game-day labels of a game-day
// instance (gameday.go).
func (b *board) group(t contract.Transition) map[string]string {
	sp := b.specs[t.SLO]
	if sp == nil {
		return nil
	}
	var g map[string]string
	keys := sp.GroupBy()
	if t.Labels[contract.LabelGameday] == contract.GamedayTrue {
		keys = append(slices.Clip(keys), contract.LabelGameday, contract.LabelGamedayDrill)
	}
	for _, k := range keys {
		if v, ok := t.Labels[k]; ok {
			if g == nil {
				g = map[string]string{}
			}
			g[k] = v
		}
	}
	return g
}

// forgetGameday drops the entries of game-day instances (their engine was
// replaced by a fresh one); their alert history stays.
func (b *board) forgetGameday() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, e := range b.slos {
		if e.cur.Group[contract.LabelGameday] == contract.GamedayTrue {
			if e.hist != nil {
				b.histories--
			}
			delete(b.slos, k)
		}
	}
}

// Snapshot returns every instance with its history, sorted by key, and the
// alert history oldest first.
func (b *board) Snapshot() status.Snapshot {
	b.mu.Lock()
	snap := status.Snapshot{SLOs: make([]status.SLO, 0, len(b.slos)), Alerts: make([]status.AlertEvent, 0, len(b.events))}
	for _, e := range b.slos {
		s := e.cur
		if e.hist != nil {
			s.History = e.hist.Points()
		}
		snap.SLOs = append(snap.SLOs, s)
	}
	have := make(map[string]bool, len(b.slos))
	for _, e := range b.slos {
		have[e.cur.Name] = true
	}
	for _, sp := range b.specs {
		// A discovered SLO has no instance before its first service: it
		// shows up with the services it finds.
		if !have[sp.Name] && (sp.SLI.Spans == nil || !sp.SLI.Spans.AnyService) {
			snap.SLOs = append(snap.SLOs, b.placeholder(sp))
		}
	}
	snap.Alerts = append(snap.Alerts, b.events[b.next:]...)
	snap.Alerts = append(snap.Alerts, b.events[:b.next]...)
	b.mu.Unlock()
	sort.Slice(snap.SLOs, func(i, j int) bool { return snap.SLOs[i].Key() < snap.SLOs[j].Key() })
	if b.alerts != nil {
		for _, d := range b.alerts.Destinations() {
			br := make(map[string]string, len(d.Breakers))
			for k, v := range d.Breakers {
				br[k] = v.String()
			}
			snap.Destinations = append(snap.Destinations, status.Destination{Name: d.Name, Queued: d.Queued, Breakers: br, Source: b.id,
				LastDelivered: d.LastDelivered.UTC(), LastError: d.LastError, LastErrorAt: d.LastErrorAt.UTC()})
		}
	}
	return snap
}

// groupString renders group-by values as "k=v, k=v", keys sorted.
func groupString(g map[string]string) string {
	if len(g) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(g))
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(g[k])
	}
	return sb.String()
}
