package dashboards

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/obsd-dev/obsd/dashboards/grafana"
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

// variableValues are legal stand-ins for the Grafana variables generated
// expressions use, so the expressions can be parsed as PromQL. Longer
// names come first so "$__rate_interval" is not read as "$__rate".
var variableValues = strings.NewReplacer(
	"${__rate_interval}", "1m", "$__rate_interval", "1m",
	"${__interval}", "1m", "$__interval", "1m",
	"${__range}", "1h", "$__range", "1h",
	"${slo}", "checkout-availability", "$slo", "checkout-availability",
	"${datasource}", "prometheus", "$datasource", "prometheus",
	"${instance}", ".*", "$instance", ".*",
)

// SubstituteVariables replaces the Grafana variables generated
// expressions use ($__rate_interval, $__interval, $__range, $slo,
// $instance, ${datasource}) with legal PromQL values.
func SubstituteVariables(expr string) string { return variableValues.Replace(expr) }

// Expression is one PromQL query of a generated panel.
type Expression struct {
	Dashboard, Panel, RefID string
	Expr                    string
}

// Expressions returns every target expression of every panel of ds.
func Expressions(ds ...*grafana.Dashboard) []Expression {
	var out []Expression
	for _, d := range ds {
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				out = append(out, Expression{Dashboard: d.UID, Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
			}
		}
	}
	return out
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
func MetricNames(ds ...*grafana.Dashboard) ([]string, error) {
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
