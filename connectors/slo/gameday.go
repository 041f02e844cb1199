package slo

import (
	"context"
	"maps"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/alerting"
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// GamedayConfig configures game-day drills (`obsd gameday`, docs/gameday.md).
type GamedayConfig struct {
	// Enabled counts the spans whose resource carries obsd.gameday.drill in
	// game-day instances of the SLOs, which page with gameday="true"
	// (default true). When false, such spans are dropped and counted
	// (outcome gameday_disabled). Either way they never count in a real SLO.
	Enabled bool `mapstructure:"enabled"`
}

const (
	// maxGamedayDrills bounds the drills one game-day engine holds while
	// one of them still has an alert; a settled engine is replaced by a
	// fresh one at the next drill.
	maxGamedayDrills = 8
	// gamedayGroupLimit caps a game-day SLO's instances; beyond it drills
	// share the overflow instance (which still carries gameday="true").
	gamedayGroupLimit = 64
)

// gameday holds the game-day copies of the SLOs: a second engine, in
// memory only, whose instances (one per drill, and per service for a
// discovered SLO) never share a count, a metric or a snapshot with the
// real ones. Its transitions go through the runner's notify (status page,
// alert routing and delivery) like real ones.
type gameday struct {
	specs  []*spec.SLO // game-day copies, in the real engine's order
	notify sloengine.Notifier

	mu     sync.Mutex
	engine *sloengine.Engine // nil until the first drill
	drills map[string]bool   // the drills engine counts
	// pending: spans were counted since the last evaluation; active: an
	// alert of engine was not inactive at the last evaluation.
	pending, active bool
}

func newGameday(specs []*spec.SLO, notify sloengine.Notifier) *gameday {
	g := &gameday{notify: notify}
	for _, s := range specs {
		g.specs = append(g.specs, gamedaySpec(s))
	}
	return g
}

// gamedaySpec is the game-day copy of an SLO: the same name, objective,
// windows, page 'for' and runbook (that is what a drill rehearses), no
// ticket (a drill rehearses the page), and gameday="true" on every
// instance and alert, set last so no SLO label can override it.
func gamedaySpec(s *spec.SLO) *spec.SLO {
	c := *s
	c.GroupByLimit = gamedayGroupLimit
	c.Labels = withGameday(s.Labels)
	c.Alerting.Ticket.Enabled = false
	c.Alerting.Page.Labels = withGameday(s.Alerting.Page.Labels)
	return &c
}

func withGameday(m map[string]string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[contract.LabelGameday] = contract.GamedayTrue
	return out
}

// engineFor returns the engine that counts drill, starting a fresh one
// when the current one has settled (no alert left, everything evaluated);
// board forgets the replaced engine's instances. It refuses (nil) a new
// drill while maxGamedayDrills others are still unsettled. g.mu is held.
func (g *gameday) engineFor(drill string, now time.Time, b *board) *sloengine.Engine {
	if g.drills[drill] {
		return g.engine
	}
	switch {
	case g.engine == nil || (!g.active && !g.pending):
		e, err := sloengine.NewEngine(g.specs, sloengine.Options{Notifier: g.notify, CountFrom: now})
		if err != nil {
			return nil // the same specs built the real engine
		}
		if g.engine != nil {
			b.forgetGameday()
		}
		g.engine, g.drills = e, map[string]bool{}
	case len(g.drills) >= maxGamedayDrills:
		return nil
	}
	g.drills[drill] = true
	return g.engine
}

// consume counts the spans of one resource marked for drill in the
// game-day instances of the SLOs they would have counted in.
func (g *gameday) consume(s *runner, rs ptrace.ResourceSpans, drill string, now, limit time.Time) {
	var e *sloengine.Engine
	if s.cfg.Gameday.Enabled && drill != "" {
		g.mu.Lock()
		if e = g.engineFor(drill, now, s.board); e != nil {
			g.pending = true
		}
		g.mu.Unlock()
	}
	if e == nil {
		s.own.gamedayDropped.Add(spanCount(rs))
		return
	}
	svc := str(rs.Resource().Attributes().Get("service.name"))
	slis := s.spanSLOs[svc]
	discovered := len(slis) == 0 && svc != "" && !s.explicit[svc]
	if discovered {
		slis = s.discovered
	}
	group := func() map[string]string { return gamedayGroup(drill, svc, discovered) }
	gh := sloengine.HashString(sloengine.HashString(sloengine.HashSeed, drill), "\xff")
	if discovered {
		gh = sloengine.HashString(sloengine.HashString(gh, svc), "\xff")
	}
	sss := rs.ScopeSpans()
	for j := range sss.Len() {
		spans := sss.At(j).Spans()
		for k := range spans.Len() {
			sp := spans.At(k)
			if !serverOrConsumer(sp) {
				continue
			}
			route := str(sp.Attributes().Get("http.route"))
			for i := range slis {
				c := &slis[i]
				if !discovered && (!c.spanName.match(sp.Name()) || !c.spanRoute.match(route)) {
					continue
				}
				if end, bad, ok := s.spanEvent(c.spec.SLI.Spans, sp, limit); ok {
					e.AddEvents(e.Instance(c.idx, gh, group, now), end, 1, bad)
					s.own.gameday.Add(1)
				}
			}
		}
	}
}

// gamedayGroup is the group of the game-day instance that counts the
// spans of drill (and of service svc, for a discovered SLO).
func gamedayGroup(drill, svc string, discovered bool) map[string]string {
	m := map[string]string{contract.LabelGameday: contract.GamedayTrue, contract.LabelGamedayDrill: drill}
	if discovered {
		m[contract.LabelService] = svc
	}
	return m
}

// GamedayPage describes the page a drill's failing spans of service svc
// raise on SLO s (one of the connector's, as LoadSLOs returns them): the
// game-day SLO it fires on and the labels of its transition, exactly as
// the connector builds them, so `obsd gameday` can say where the page
// will be routed before it sends anything.
func GamedayPage(s *spec.SLO, drill, svc string) (gd *spec.SLO, labels map[string]string) {
	gd = gamedaySpec(s)
	discovered := s.SLI.Spans != nil && s.SLI.Spans.AnyService
	return gd, sloengine.AlertLabels(gd, sloengine.Page, gamedayGroup(drill, svc, discovered))
}

func spanCount(rs ptrace.ResourceSpans) uint64 {
	var n uint64
	sss := rs.ScopeSpans()
	for j := range sss.Len() {
		n += uint64(sss.At(j).Spans().Len())
	}
	return n
}

// evaluate evaluates the game-day instances, if any, for the status page
// (observe); they emit no metric. Transitions go to the notifier.
func (g *gameday) evaluate(ctx context.Context, now time.Time, observe func(*sloengine.Status)) {
	g.mu.Lock()
	e := g.engine
	g.pending = false
	g.mu.Unlock()
	if e == nil {
		return
	}
	active := false
	e.Evaluate(ctx, now, func(st *sloengine.Status) {
		observe(st)
		for _, a := range st.Alerts {
			active = active || a.State != sloengine.Inactive
		}
	})
	g.mu.Lock()
	if g.engine == e {
		g.active = active
	}
	g.mu.Unlock()
}

// withoutGamedayAlerts drops game-day alerts from the alerting state that
// is saved: the game-day engine is not, so after a restart nothing would
// ever resolve them, and Alertmanager lets them expire by their endsAt.
func withoutGamedayAlerts(st alerting.State) alerting.State {
	out := alerting.State{Alerts: make([]alerting.AlertState, 0, len(st.Alerts))}
	for _, a := range st.Alerts {
		if a.Alert.Labels[contract.LabelGameday] != contract.GamedayTrue {
			out.Alerts = append(out.Alerts, a)
		}
	}
	return out
}
