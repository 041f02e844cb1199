package rules

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// group builds the rule group of one SLO: recording rules first (rules of
// a group run in order, so the alerts read this evaluation's values).
func group(s *spec.SLO, q queries, opts Options) rulefmt.RuleGroup {
	g := rulefmt.RuleGroup{Name: "obsd-slo-" + s.Name}
	base := map[string]string{}
	for k, v := range s.Labels {
		base[k] = v
	}
	base["slo"], base["service"] = s.Name, s.Service
	alertWins, all := windowsOf(s, q.agents)
	for _, w := range all {
		g.Rules = append(g.Rules, rulefmt.Rule{Record: recordName(s, w), Expr: q.errorRatio(w), Labels: base})
	}
	for _, w := range alertWins {
		if q.events == nil {
			break
		}
		g.Rules = append(g.Rules, rulefmt.Rule{Record: EventsRecord + dur(w.d), Expr: q.events(w), Labels: base})
	}
	for _, sev := range s.Alerting.Severities() {
		if !sev.Enabled {
			continue
		}
		for i := range sev.Windows {
			g.Rules = append(g.Rules, alertRule(s, sev.Name, sev.Severity, i, opts, q.agents))
		}
	}
	return g
}

// alertRule is severity sev's rule for its window pair i.
func alertRule(s *spec.SLO, severity string, sev spec.Severity, i int, opts Options, agents bool) rulefmt.Rule {
	p := sev.Windows[i]
	sel := fmt.Sprintf("{slo=%q}", s.Name)
	b := num(budget(s.Objective))
	f := num(p.Factor)
	long, short := dur(p.Long), dur(p.Short)
	terms := []string{
		fmt.Sprintf("(%s%s%s / %s >= %s)", ErrorRatioRecord, long, sel, b, f),
		fmt.Sprintf("(%s%s%s / %s >= %s)", ErrorRatioRecord, short, sel, b, f),
	}
	if s.Alerting.MinEvents > 0 && s.SLI.PromQL == nil {
		me := num(s.Alerting.MinEvents)
		terms = append(terms,
			fmt.Sprintf("(%s%s%s >= %s)", EventsRecord, long, sel, me),
			fmt.Sprintf("(%s%s%s >= %s)", EventsRecord, short, sel, me))
	}
	lbl := map[string]string{}
	for _, m := range []map[string]string{s.Alerting.Labels, sev.Labels} {
		for k, v := range m {
			lbl[k] = v
		}
	}
	// obsd's labels win on a clash, as in obsd's alerts. slo and service
	// are the values the recording rules' series carry anyway; as static
	// labels they keep the alerts of two SLOs apart for promtool's
	// duplicate-rules lint (same alertname, same static labels).
	delete(lbl, "alertname")
	lbl["slo"], lbl["service"] = s.Name, s.Service
	lbl["severity"], lbl["long_window"], lbl["short_window"] = severity, long, short
	ann := map[string]string{}
	for _, m := range []map[string]string{s.Alerting.Annotations, sev.Annotations} {
		for k, v := range m {
			ann[k] = translateTemplate(v)
		}
	}
	ann["summary"] = fmt.Sprintf("SLO %s of service %s is burning its error budget (%s)", s.Name, s.Service, severity)
	ann["description"] = fmt.Sprintf("The error budget of %s (objective %s%%) burns at least %s× over %s and %s; "+
		"burn rate over %s: {{ $value | humanize }}.", s.Name, num(s.Objective*100), f, long, short, long)
	if s.Alerting.RunbookURL != "" {
		ann["runbook_url"] = s.Alerting.RunbookURL
	}
	if opts.GrafanaURL != "" {
		// The annotation obsd's alerting sets from its dashboard_url template.
		ann["dashboard_url"] = contract.DashboardURL(opts.GrafanaURL, s.Name)
	}
	if n := periodNote(s, agents); n != "" {
		ann[NoteAnnotation] = n
	}
	return rulefmt.Rule{Alert: opts.AlertName, Expr: strings.Join(terms, "\nand\n"),
		For: modelDur(sev.PairFor(i)), Labels: lbl, Annotations: ann}
}

// translateTemplate rewrites the fields of obsd's alert templates that
// Prometheus knows as labels; other fields are left as written.
func translateTemplate(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return strings.NewReplacer(".SLO", "$labels.slo", ".Service", "$labels.service", ".Labels.", "$labels.").Replace(s)
}
