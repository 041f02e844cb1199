// Package sloth reads Sloth's SLO file format ("version: prometheus/v1")
// into the model of slo/spec: event-based SLIs whose queries have one of
// the supported shapes (SupportedShapes), with Sloth's default alerting.
package sloth

import (
	"fmt"
	"slices"

	"github.com/prometheus/prometheus/promql/parser"

	raw "github.com/obsd-dev/obsd/slo/formats/sloth/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Version is the version key of Sloth's format.
const Version = "prometheus/v1"

// SupportedShapes names the query shapes the Sloth import accepts.
const SupportedShapes = `sum(rate(SELECTOR[{{.window}}])), sum(increase(SELECTOR[{{.window}}])) and their "sum by (...)" forms`

// Parse decodes and validates one Sloth prometheus/v1 file's content;
// file names it in errors. Unknown keys are errors, and every problem is
// reported at once, each with the file, SLO name and YAML field. An SLO's
// name becomes "<service>-<name>" (Sloth's sloth_id) and its period is
// spec.DefaultPeriod.
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	var f raw.File
	if err := spec.DecodeFile(file, data, &f); err != nil {
		return nil, err
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%s: 'version' must be %q, got %q", file, Version, f.Version)
	}
	e := &spec.Problems{File: file}
	var out []*spec.SLO
	for _, r := range f.SLOs {
		out = append(out, convertSLO(file, f, r, e))
	}
	return e.SLOs(out)
}

// convertSLO validates one Sloth SLO.
func convertSLO(file string, f raw.File, r raw.SLO, e *spec.Problems) *spec.SLO {
	e.SLO = f.Service + "-" + r.Name
	spec.CheckCommon(r.Name, f.Service, r.Objective, e)
	s := &spec.SLO{Name: e.SLO, Service: f.Service, Description: r.Description, Objective: spec.PercentToRatio(r.Objective),
		Period: spec.DefaultPeriod, Labels: mergeLabels(f.Labels, r.Labels), Source: file}
	switch {
	case r.SLI.Raw != nil || r.SLI.Plugin != nil:
		e.Addf("sli", "only 'sli.events' is supported (not 'raw' or 'plugin')")
	case r.SLI.Events == nil:
		e.Addf("sli.events", "is required")
	default:
		bad, badBy, ok1 := slothQuery(r.SLI.Events.ErrorQuery, "sli.events.error_query", e)
		total, totalBy, ok2 := slothQuery(r.SLI.Events.TotalQuery, "sli.events.total_query", e)
		if ok1 && ok2 && !slices.Equal(badBy, totalBy) {
			e.Addf("sli.events", "error_query groups by %v but total_query by %v; they must match", badBy, totalBy)
		}
		s.SLI.Metric = &spec.MetricRatio{Bad: bad, Total: total, GroupBy: totalBy}
	}
	page, ticket := spec.DefaultWindowPairs(s.Period)
	s.Alerting = spec.Alerting{Name: r.Alerting.Name, Labels: r.Alerting.Labels, Annotations: r.Alerting.Annotations, MinEvents: spec.DefaultMinEvents,
		Page:   spec.Severity{Enabled: !r.Alerting.PageAlert.Disable, Windows: page, Labels: r.Alerting.PageAlert.Labels, Annotations: r.Alerting.PageAlert.Annotations},
		Ticket: spec.Severity{Enabled: !r.Alerting.TicketAlert.Disable, Windows: ticket, Labels: r.Alerting.TicketAlert.Labels, Annotations: r.Alerting.TicketAlert.Annotations}}
	if s.Alerting.Name == "" {
		s.Alerting.Name = s.Name
	}
	s.Alerting.RunbookURL = r.Alerting.Annotations["runbook_url"]
	return s
}

func mergeLabels(a, b map[string]string) map[string]string {
	if len(a)+len(b) == 0 {
		return nil
	}
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// slothQuery parses one Sloth query with Prometheus' PromQL parser and
// accepts only the supported shapes.
func slothQuery(q, field string, e *spec.Problems) (spec.Selector, []string, bool) {
	if q == "" {
		e.Addf(field, "is required")
		return spec.Selector{}, nil, false
	}
	expr, err := spec.ParseQuery(q)
	if err != nil {
		e.Addf(field, "is not valid PromQL: %v", err)
		return spec.Selector{}, nil, false
	}
	unsupported := func() (spec.Selector, []string, bool) {
		e.Addf(field, "has an unsupported shape %q; supported: %s", q, SupportedShapes)
		return spec.Selector{}, nil, false
	}
	agg, ok := expr.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.SUM || agg.Without || agg.Param != nil {
		return unsupported()
	}
	call, ok := agg.Expr.(*parser.Call)
	if !ok || (call.Func.Name != "rate" && call.Func.Name != "increase") || len(call.Args) != 1 {
		return unsupported()
	}
	ms, ok := call.Args[0].(*parser.MatrixSelector)
	if !ok {
		return unsupported()
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return unsupported()
	}
	n := e.Len()
	sel := spec.SelectorFrom(vs.String(), vs.LabelMatchers, field, e)
	by := slices.Clone(agg.Grouping)
	slices.Sort(by)
	return sel, by, e.Len() == n
}
