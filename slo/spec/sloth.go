package spec

import (
	"regexp"
	"slices"

	"github.com/prometheus/prometheus/promql/parser"
)

// VersionSloth is the version key of Sloth's format.
const VersionSloth = "prometheus/v1"

// SupportedSlothShapes names the query shapes the Sloth import accepts.
const SupportedSlothShapes = `sum(rate(SELECTOR[{{.window}}])), sum(increase(SELECTOR[{{.window}}])) and their "sum by (...)" forms`

type slothFile struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	SLOs    []slothSLO        `yaml:"slos"`
}

type slothSLO struct {
	Name        string            `yaml:"name"`
	Objective   float64           `yaml:"objective"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	SLI         struct {
		Events *struct {
			ErrorQuery string `yaml:"error_query"`
			TotalQuery string `yaml:"total_query"`
		} `yaml:"events"`
		Raw    map[string]any `yaml:"raw"`
		Plugin map[string]any `yaml:"plugin"`
	} `yaml:"sli"`
	Alerting struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		PageAlert   slothAlert        `yaml:"page_alert"`
		TicketAlert slothAlert        `yaml:"ticket_alert"`
	} `yaml:"alerting"`
}

type slothAlert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

var windowTmpl = regexp.MustCompile(`{{\s*\.window\s*}}`)

// convertSloth validates one Sloth SLO. Its name becomes
// "<service>-<name>" (Sloth's sloth_id) and its period is DefaultPeriod.
func convertSloth(file string, f slothFile, r slothSLO, e *errs) *SLO {
	e.slo = f.Service + "-" + r.Name
	checkCommon(r.Name, f.Service, r.Objective, e)
	s := &SLO{Name: e.slo, Service: f.Service, Description: r.Description, Objective: percentToRatio(r.Objective),
		Period: DefaultPeriod, Labels: mergeLabels(f.Labels, r.Labels), Source: file}
	switch {
	case r.SLI.Raw != nil || r.SLI.Plugin != nil:
		e.addf("sli", "only 'sli.events' is supported (not 'raw' or 'plugin')")
	case r.SLI.Events == nil:
		e.addf("sli.events", "is required")
	default:
		bad, badBy, ok1 := slothQuery(r.SLI.Events.ErrorQuery, "sli.events.error_query", e)
		total, totalBy, ok2 := slothQuery(r.SLI.Events.TotalQuery, "sli.events.total_query", e)
		if ok1 && ok2 && !slices.Equal(badBy, totalBy) {
			e.addf("sli.events", "error_query groups by %v but total_query by %v; they must match", badBy, totalBy)
		}
		s.SLI.Metric = &MetricRatio{Bad: bad, Total: total, GroupBy: totalBy}
	}
	page, ticket := DefaultWindowPairs(s.Period)
	s.Alerting = Alerting{Name: r.Alerting.Name, Labels: r.Alerting.Labels, Annotations: r.Alerting.Annotations, MinEvents: DefaultMinEvents,
		Page:   Severity{Enabled: !r.Alerting.PageAlert.Disable, Windows: page, Labels: r.Alerting.PageAlert.Labels, Annotations: r.Alerting.PageAlert.Annotations},
		Ticket: Severity{Enabled: !r.Alerting.TicketAlert.Disable, Windows: ticket, Labels: r.Alerting.TicketAlert.Labels, Annotations: r.Alerting.TicketAlert.Annotations}}
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
func slothQuery(q, field string, e *errs) (Selector, []string, bool) {
	if q == "" {
		e.addf(field, "is required")
		return Selector{}, nil, false
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(windowTmpl.ReplaceAllString(q, "5m"))
	if err != nil {
		e.addf(field, "is not valid PromQL: %v", err)
		return Selector{}, nil, false
	}
	unsupported := func() (Selector, []string, bool) {
		e.addf(field, "has an unsupported shape %q; supported: %s", q, SupportedSlothShapes)
		return Selector{}, nil, false
	}
	for {
		p, ok := expr.(*parser.ParenExpr)
		if !ok {
			break
		}
		expr = p.Expr
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
	n := len(e.list)
	sel := selectorFrom(vs.String(), vs.LabelMatchers, field, e)
	by := slices.Clone(agg.Grouping)
	slices.Sort(by)
	return sel, by, len(e.list) == n
}
