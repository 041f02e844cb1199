package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/alerting"
	sloconnector "github.com/obsd-dev/obsd/connectors/slo"
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Drill sizes.
const (
	// minFailingSpans is the least a drill sends: well above the default
	// min_events (10) of both windows of a page pair.
	minFailingSpans = 20
	// maxRecoverySpans bounds the good spans sent to resolve the page;
	// an SLO needing more (a very tight objective) resolves by itself.
	maxRecoverySpans = 200_000
	// defaultDrillService is the service of a drill on a discovered SLO.
	defaultDrillService = "gameday"
)

// drillPlan is everything a drill does and expects, decided before it
// sends anything (and all that --dry-run shows).
type drillPlan struct {
	drill string
	t     target
	// slo is the real SLO; gd its game-day copy, which the spans count in.
	slo, gd    *spec.SLO
	discovered bool
	service    string
	// failing and healthy are the spans of the incident and the recovery.
	failing, healthy   drillSpan
	failN, recoverN    int
	pair               spec.WindowPair
	burn               float64 // the burn rate of the failing spans
	labels             map[string]string
	receivers          []string
	eval, pageFor      time.Duration
	fireWithin         time.Duration // from the first failing span to the page
	deliverWithin      time.Duration // from the page to every destination
	resolveWithin      time.Duration // from the recovery to the resolve
	alertmanagers      map[string][]string
	recoveryImpossible string // why there is no recovery, when recoverN is 0
}

// newDrillID is "gd-<UTC time>-<4 random hex>": sortable, unique enough.
func newDrillID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return "gd-" + now.UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}

// pickSpanSLO chooses the SLO to drill on among the targets' span SLOs:
// the one named, else the only explicit one, else the discovered
// availability SLO.
func pickSpanSLO(ts []target, name string) (target, *spec.SLO, error) {
	type cand struct {
		t target
		s *spec.SLO
	}
	var all, explicit, discovered []cand
	for _, t := range ts {
		for _, s := range t.slos {
			if s.SLI.Spans == nil {
				continue
			}
			c := cand{t, s}
			all = append(all, c)
			if s.SLI.Spans.AnyService {
				discovered = append(discovered, c)
			} else {
				explicit = append(explicit, c)
			}
		}
	}
	names := func(cs []cand) string {
		var n []string
		for _, c := range cs {
			n = append(n, c.s.Name)
		}
		return strings.Join(n, ", ")
	}
	switch {
	case name != "":
		for _, c := range all {
			if c.s.Name == name {
				return c.t, c.s, nil
			}
		}
		for _, t := range ts {
			for _, s := range t.slos {
				if s.Name == name {
					return target{}, nil, fmt.Errorf("'--slo': %s counts %s, not spans: a drill sends spans (span SLOs: %s)", name, sliKind(s), names(all))
				}
			}
		}
		return target{}, nil, fmt.Errorf("'--slo': no SLO %q (span SLOs: %s)", name, names(all))
	case len(explicit) == 1:
		return explicit[0].t, explicit[0].s, nil
	case len(explicit) > 1:
		return target{}, nil, fmt.Errorf("'--slo' is required: the config has %d span SLOs (%s)", len(all), names(all))
	case len(discovered) > 0:
		for _, c := range discovered {
			if c.s.SLI.Spans.StatusError {
				return c.t, c.s, nil
			}
		}
		return discovered[0].t, discovered[0].s, nil
	}
	return target{}, nil, fmt.Errorf("the config has no span SLO to drill on: add one to an SLO file, or 'discover' to the slo connector")
}

func sliKind(s *spec.SLO) string {
	switch {
	case s.SLI.Logs != nil:
		return "log records"
	case s.SLI.Latency != nil:
		return "a latency histogram"
	}
	return "metric points"
}

// planDrill decides the drill on SLO s of target t for service svc ("" is
// the SLO's own service, or defaultDrillService for a discovered SLO).
func planDrill(t target, s *spec.SLO, svc, drill string) (*drillPlan, error) {
	if !t.cfg.Gameday.Enabled {
		return nil, fmt.Errorf("connector %s has 'gameday::enabled: false': it would drop the drill's spans", t.connector)
	}
	sli := s.SLI.Spans
	p := &drillPlan{drill: drill, t: t, slo: s, discovered: sli.AnyService, eval: t.cfg.EvaluationInterval}
	switch {
	case p.discovered && svc == "":
		svc = defaultDrillService
	case p.discovered && slices.Contains(sli.ExceptServices, svc):
		return nil, fmt.Errorf("'--service': %s has SLOs of its own, so %s does not count it; drill on one of its SLOs or another service", svc, s.Name)
	case !p.discovered && svc != "" && svc != sli.Service:
		return nil, fmt.Errorf("'--service': %s counts the spans of %s, not %s", s.Name, sli.Service, svc)
	case !p.discovered:
		svc = sli.Service
	}
	p.service = svc
	name, err := exampleOf(sli.Name, "GET /gameday")
	if err != nil {
		return nil, fmt.Errorf("the span name of %s: %w", s.Name, err)
	}
	route, err := exampleOf(sli.Route, "/gameday")
	if err != nil {
		return nil, fmt.Errorf("the route of %s: %w", s.Name, err)
	}
	p.failing = drillSpan{service: svc, name: name, route: route, failed: sli.StatusError, httpStatus: 200, duration: 5 * time.Millisecond}
	if sli.HTTP5xx {
		p.failing.httpStatus = 500
	}
	if !sli.StatusError && !sli.HTTP5xx {
		p.failing.duration = max(2*sli.DurationOver, sli.DurationOver+100*time.Millisecond)
	}
	p.healthy = drillSpan{service: svc, name: name, route: route, httpStatus: 200, duration: time.Millisecond}
	if sli.DurationOver > 0 {
		p.healthy.duration = min(p.healthy.duration, sli.DurationOver/2)
	}
	var labels map[string]string
	p.gd, labels = sloconnector.GamedayPage(s, drill, svc)
	page := p.gd.Alerting.Page
	if !page.Enabled || len(page.Windows) == 0 {
		return nil, fmt.Errorf("%s has no page alert: there is nothing to rehearse", s.Name)
	}
	p.failN = max(minFailingSpans, int(math.Ceil(p.gd.Alerting.MinEvents))+10)
	budget := math.Round((1-s.Objective)*1e12) / 1e12
	p.burn = 1 / budget
	minFactor := math.Inf(1)
	found := false
	// Failing spans fill every window at once: each pair the burn reaches
	// holds from the first evaluation, and the page fires after the
	// shortest 'for' among them.
	for i, w := range page.Windows {
		minFactor = min(minFactor, w.Factor)
		if p.burn < w.Factor*(1-1e-9) {
			continue
		}
		if f := page.PairFor(i); !found || f < p.pageFor {
			p.pair, p.pageFor, found = w, f, true
		}
	}
	if !found {
		return nil, fmt.Errorf("the page of %s cannot fire, even on failing spans only: its objective %s%% caps the burn rate at %s×, below every page factor (lowest %s×)",
			s.Name, num(s.Objective*100), num(p.burn), num(minFactor))
	}
	// The resolve needs every pair under ResolveRatio × its factor.
	total := float64(p.failN) / (sloengine.DefaultResolveRatio * minFactor * budget)
	if n := int(math.Ceil(total*1.05)) - p.failN; n <= maxRecoverySpans {
		p.recoverN = n
	} else {
		var longestShort time.Duration
		for _, w := range page.Windows {
			longestShort = max(longestShort, w.Short)
		}
		p.recoveryImpossible = fmt.Sprintf("resolving would take %d good spans; the page resolves by itself once its short windows (up to %s) hold fewer than %s events",
			n, model.Duration(longestShort), num(p.gd.Alerting.MinEvents))
	}
	p.fireWithin = p.eval + roundUp(p.pageFor, p.eval) + max(p.eval/2, 3*time.Second)
	p.resolveWithin = p.eval + max(p.eval/2, 3*time.Second)
	tr := contract.Transition{SLO: s.Name, Service: svc, Labels: labels, Severity: contract.SeverityPage,
		State: contract.StateFiring, LongWindow: p.pair.Long, ShortWindow: p.pair.Short}
	al := alerting.DefaultConfig()
	if t.cfg.Alerting != nil {
		al = *t.cfg.Alerting
	}
	p.labels = al.AlertLabels(tr)
	if len(al.Destinations) > 0 {
		if p.receivers, err = t.cfg.Alerting.Receivers(tr); err != nil {
			return nil, err
		}
		p.deliverWithin = t.cfg.Alerting.Delivery.Timeout + 2*time.Second
		p.alertmanagers = map[string][]string{}
		for _, r := range p.receivers {
			if am := t.cfg.Alerting.Destinations[r].Alertmanager; am != nil {
				p.alertmanagers[r] = am.URLs
			}
		}
	}
	return p, nil
}

// roundUp rounds d up to a multiple of step.
func roundUp(d, step time.Duration) time.Duration {
	if d <= 0 || step <= 0 {
		return 0
	}
	return (d + step - 1) / step * step
}

func num(v float64) string { return fmt.Sprintf("%.4g", v) }

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// describe writes the plan: what is sent, where the page goes, how long
// each step may take, and why.
func (p *drillPlan) describe(w io.Writer) {
	s, gd := p.slo, p.gd
	kind := "SLO"
	if p.discovered {
		kind = "discovered SLO"
	}
	fmt.Fprintf(w, "drill %s on %s %s of service %s (connector %s)\n", p.drill, kind, s.Name, p.service, p.t.connector)
	fmt.Fprintf(w, "  objective %s%% over %s; page when the burn rate reaches %s× over both %s and %s (at least %s events in each)\n",
		num(s.Objective*100), model.Duration(s.Period), num(p.pair.Factor), model.Duration(p.pair.Long), model.Duration(p.pair.Short), num(gd.Alerting.MinEvents))
	fmt.Fprintf(w, "  counted in a game-day instance {%s}: it starts empty, so %d failing spans fill both windows at once (burn %s×);\n"+
		"  the real SLO's counts, budget and obsd_slo_* series stay untouched\n",
		groupLabels(p.labels), p.failN, num(p.burn))
	otlp := p.t.otlpHTTP
	if otlp == "" {
		otlp = "grpc://" + p.t.otlpGRPC
	}
	fmt.Fprintf(w, "  send: %d server spans %q route %q, %s, to %s, resource %s=%s %s=%s\n",
		p.failN, p.failing.name, p.failing.route, spanLook(p.failing), otlp, "service.name", p.service, contract.AttrGamedayDrill, p.drill)
	fmt.Fprintf(w, "  page: expected within %s of the first span (an evaluation every %s, page 'for' %s, and slack)\n",
		secs(p.fireWithin), model.Duration(p.eval), model.Duration(p.pageFor))
	fmt.Fprintf(w, "  alert labels: %s\n", labelString(p.labels))
	if len(p.receivers) == 0 {
		fmt.Fprintf(w, "  route: connector %s has no alerting destination: the page would reach nobody\n", p.t.connector)
	} else {
		fmt.Fprintf(w, "  route: %s, each expected to accept it within %s of the page\n", strings.Join(p.receivers, ", "), secs(p.deliverWithin))
		for _, r := range p.receivers {
			if urls, ok := p.alertmanagers[r]; ok {
				fmt.Fprintf(w, "  back: Alertmanager %s must hold the alert (GET /api/v2/alerts?filter=%s=%q)\n", strings.Join(urls, ", "), contract.LabelGamedayDrill, p.drill)
			}
		}
	}
	if gd.Alerting.RunbookURL != "" {
		fmt.Fprintf(w, "  runbook: %s\n", gd.Alerting.RunbookURL)
	}
	if p.recoverN > 0 {
		fmt.Fprintf(w, "  recover: %d good spans (%s), then the page resolves within %s\n", p.recoverN, spanLook(p.healthy), secs(p.resolveWithin))
	} else {
		fmt.Fprintf(w, "  recover: none: %s\n", p.recoveryImpossible)
	}
}

// spanLook describes a drill span's status, HTTP status and duration.
func spanLook(s drillSpan) string {
	st := "status Ok"
	if s.failed {
		st = "status Error"
	}
	return fmt.Sprintf("%s, HTTP %d, %s", st, s.httpStatus, s.duration)
}

// groupLabels shows the game-day instance's identifying labels.
func groupLabels(labels map[string]string) string {
	var parts []string
	for _, k := range []string{contract.LabelGameday, contract.LabelGamedayDrill} {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return strings.Join(parts, ", ")
}

func labelString(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return strings.Join(parts, " ")
}
