package dashboards

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/obsd-dev/obsd/slo/contract"
)

// series is a PromQL selector of metric with label matchers given as
// name, value pairs: series("m", "a", "x") is m{a="x"}; no pairs give m.
func series(metric string, labelValues ...string) string {
	if len(labelValues) == 0 {
		return metric
	}
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i := 0; i+1 < len(labelValues); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labelValues[i])
		b.WriteByte('=')
		b.WriteString(promString(labelValues[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

// sloSeries is series of metric for the dashboard's SLO (the "slo"
// variable) plus the given label matchers: sloSeries(contract.MetricBurnRate,
// contract.LabelWindow, "1h") is obsd_slo_burn_rate{slo="$slo",window="1h"}.
func sloSeries(metric string, labelValues ...string) string {
	return series(metric, append([]string{contract.LabelSLO, "$" + sloVariable}, labelValues...)...)
}

// sloVariable is the hidden dashboard variable that selects the SLO.
const sloVariable = "slo"

// Variables are values for the Grafana variables generated expressions
// use, standing in for what Grafana substitutes before it sends a query.
type Variables struct {
	RateInterval string // $__rate_interval, a PromQL duration
	Interval     string // $__interval
	Range        string // $__range
	SLO          string // $slo, an SLO name (each SLO dashboard presets its own)
	Instance     string // $instance, a regular expression ("All" is ".*")
	Datasource   string // ${datasource}
}

// DefaultVariables are legal PromQL stand-ins for every variable, used to
// parse expressions.
var DefaultVariables = Variables{
	RateInterval: "1m", Interval: "1m", Range: "1h",
	SLO: "checkout-availability", Instance: ".*", Datasource: "prometheus",
}

// replacer substitutes v. Longer names come first so "$__rate_interval"
// is not read as "$__rate".
func (v Variables) replacer() *strings.Replacer {
	return strings.NewReplacer(
		"${__rate_interval}", v.RateInterval, "$__rate_interval", v.RateInterval,
		"${__interval}", v.Interval, "$__interval", v.Interval,
		"${__range}", v.Range, "$__range", v.Range,
		"${"+sloVariable+"}", v.SLO, "$"+sloVariable, v.SLO,
		"${"+datasourceVariable+"}", v.Datasource, "$"+datasourceVariable, v.Datasource,
		"${instance}", v.Instance, "$instance", v.Instance,
	)
}

// Substitute replaces the Grafana variables in expr with v's values.
func (v Variables) Substitute(expr string) string { return v.replacer().Replace(expr) }

var defaultReplacer = DefaultVariables.replacer()

// SubstituteVariables replaces the Grafana variables generated
// expressions use ($__rate_interval, $__interval, $__range, $slo,
// $instance, ${datasource}) with DefaultVariables.
func SubstituteVariables(expr string) string { return defaultReplacer.Replace(expr) }

// Expression is one PromQL query of a generated panel.
type Expression struct {
	Dashboard, Panel, RefID string
	Expr                    string
	// SLO is the value the dashboard presets its "slo" variable to (SLO
	// dashboards only).
	SLO string
}

// Query is the expression as Grafana sends it with v's values, the
// dashboard's own SLO standing for $slo.
func (e Expression) Query(v Variables) string {
	if e.SLO != "" {
		v.SLO = e.SLO
	}
	return v.Substitute(e.Expr)
}

// Expressions returns every target expression of every panel of ds, in
// the rows' panels too.
func Expressions(ds ...dashboard.Dashboard) []Expression {
	var out []Expression
	for _, d := range ds {
		slo := variableValue(d, sloVariable)
		var panels []*dashboard.Panel
		for _, p := range d.Panels {
			switch {
			case p.Panel != nil:
				panels = append(panels, p.Panel)
			case p.RowPanel != nil:
				for i := range p.RowPanel.Panels {
					panels = append(panels, &p.RowPanel.Panels[i])
				}
			}
		}
		for _, p := range panels {
			for _, t := range p.Targets {
				e := Expression{Dashboard: deref(d.Uid), Panel: deref(p.Title), SLO: slo}
				switch q := t.(type) {
				case prometheus.Dataquery:
					e.RefID, e.Expr = deref(q.RefId), q.Expr
				case *prometheus.Dataquery:
					e.RefID, e.Expr = deref(q.RefId), q.Expr
				}
				out = append(out, e)
			}
		}
	}
	return out
}

// variableValue is the current value of d's variable name, or "".
func variableValue(d dashboard.Dashboard, name string) string {
	for _, v := range d.Templating.List {
		if v.Name == name && v.Current != nil {
			return deref(v.Current.Value.String)
		}
	}
	return ""
}

// ParseExpression parses a generated expression with Prometheus' own
// parser after substituting the Grafana variables.
func ParseExpression(expr string) (parser.Expr, error) {
	return parser.NewParser(parser.Options{}).ParseExpr(SubstituteVariables(expr))
}

// MetricNames returns the sorted, distinct metric names the panels of ds
// query, found by parsing every expression (an e2e test checks each
// against a running obsd). An expression that does not parse is an error
// naming its dashboard and panel.
func MetricNames(ds ...dashboard.Dashboard) ([]string, error) {
	seen := map[string]bool{}
	var errs []error
	for _, e := range Expressions(ds...) {
		ast, err := ParseExpression(e.Expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("dashboard %q panel %q query %s: %w", e.Dashboard, e.Panel, e.RefID, err))
			continue
		}
		parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" {
				seen[vs.Name] = true
			}
			return nil
		})
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, errors.Join(errs...)
}
