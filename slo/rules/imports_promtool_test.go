package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/conformance"
	"github.com/obsd-dev/obsd/slo/formats"
)

// importSeries: 100 good requests a minute all along, 0.2 errors a minute
// except 60 a minute from minute 60 to 90.
func importSeries() []conformance.Series {
	start := time.Unix(0, 0).UTC()
	mk := func(lbl string, rate conformance.Rate) conformance.Series {
		return conformance.Counter{Metric: "api_requests_total", Labels: lbl, Start: start, Step: time.Minute, N: 181, Rate: rate}.Build()
	}
	bad := func(m int) float64 {
		if m > 60 && m <= 90 {
			return 60
		}
		return 0.2
	}
	hist := func(metric, lbl string, rate conformance.Rate) conformance.Series {
		return conformance.Counter{Metric: metric, Labels: lbl, Start: start, Step: time.Minute, N: 181, Rate: rate}.Build()
	}
	// The same requests as a histogram: the good ones within 0.3s.
	return []conformance.Series{
		mk(`job="api",code="200"`, func(int) float64 { return 100 }),
		mk(`job="api",code="500"`, bad),
		hist("api_duration_seconds_bucket", `job="api",le="0.3"`, func(int) float64 { return 100 }),
		hist("api_duration_seconds_bucket", `job="api",le="+Inf"`, func(m int) float64 { return 100 + bad(m) }),
		hist("api_duration_seconds_count", `job="api"`, func(m int) float64 { return 100 + bad(m) }),
	}
}

// equivalence is one imported SLO and the rules its own tool documents.
type equivalence struct {
	slo       string // obsd's SLO name
	reference string // the tool's rule group, as the tool writes it
	ratio     func(window string) string
	firing    string // the tool's page alert, firing
	pairs     []pairAlert
}

// pairAlert compares the page alert of one window pair: obsd's (by its
// long_window label) fires exactly when the tool's does.
type pairAlert struct {
	long, tool string
}

// runEquivalence writes obsd's rules for the imported file and the tool's
// reference rules, and has promtool check, every 5 minutes over 3 hours,
// that both compute the same error ratio on every window obsd's page and
// ticket alerts use, and, every minute, that obsd's page alert fires
// exactly when the tool's does.
func runEquivalence(t *testing.T, file string, cases []equivalence, windows []string) {
	t.Helper()
	slos, _, err := formats.LoadExport(file)
	require.NoError(t, err)
	out, err := Generate(slos, Options{})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "obsd.yml"), out, 0o600))
	var ref strings.Builder
	ref.WriteString("groups:\n")
	for _, c := range cases {
		ref.WriteString(c.reference)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "reference.yml"), []byte(ref.String()), 0o600))

	var tf strings.Builder
	tf.WriteString("rule_files: [obsd.yml, reference.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
	for _, s := range importSeries() {
		fmt.Fprintf(&tf, "      - series: '%s{%s}'\n        values: '%s'\n", s.Metric, s.Labels, conformance.PromtoolValues(s))
	}
	tf.WriteString("    promql_expr_test:\n")
	for _, c := range cases {
		for m := 1; m <= 180; m++ {
			for _, w := range windows {
				if m%5 != 0 {
					break // ratios every 5 minutes, alerts every minute
				}
				// The same error ratio: |obsd - tool| is 0 (compared as "< 1e-12").
				fmt.Fprintf(&tf, "      - expr: 'abs(obsd_slo:sli_error:ratio_rate%s{slo=%q} - on() %s) < bool 1e-12'\n        eval_time: %dm\n        exp_samples: [{labels: '{}', value: 1}]\n",
					w, c.slo, c.ratio(w), m)
			}
			pairs := c.pairs
			if len(pairs) == 0 {
				pairs = []pairAlert{{tool: c.firing}}
			}
			for _, p := range pairs {
				long := ""
				if p.long != "" {
					long = fmt.Sprintf(",long_window=%q", p.long)
				}
				obsdFiring := fmt.Sprintf(`count(ALERTS{alertname="SLOErrorBudgetBurn",slo=%q,severity="page",alertstate="firing"%s}) > bool 0 or vector(0)`, c.slo, long)
				toolFiring := fmt.Sprintf(`count(%s) > bool 0 or vector(0)`, p.tool)
				fmt.Fprintf(&tf, "      - expr: '(%s) - on() (%s)'\n        eval_time: %dm\n        exp_samples: [{labels: '{}', value: 0}]\n", obsdFiring, toolFiring, m)
			}
		}
		// The scenario makes the tool page: the comparison is not of two silences.
		fmt.Fprintf(&tf, "      - expr: '%s'\n        eval_time: 90m\n        exp_samples: [{labels: '{}', value: 1}]\n", "count("+c.firing+") > bool 0")
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test.yml"), []byte(tf.String()), 0o600))
	promtool(t, dir, "", "test", "rules", "test.yml")
}

const slothFile = `version: prometheus/v1
service: api
slos:
  - name: events
    objective: 99
    sli:
      events:
        error_query: sum(rate(api_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(api_requests_total{job="api"}[{{.window}}]))
    alerting: {name: ApiEvents}
  - name: raw
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          1 - (
            sum(rate(api_requests_total{job="api",code!~"5.."}[{{.window}}]))
            /
            sum(rate(api_requests_total{job="api"}[{{.window}}]))
          )
    alerting: {name: ApiRaw}
`

// slothGroup writes the rule group Sloth v0.16 generates for an SLO of
// service api with objective 99 (examples/_gen of Sloth's repository):
// one slo:sli_error:ratio_rate<w> per window with the query's
// {{.window}} replaced, and the page alert of the 1h/5m (14.4) and
// 6h/30m (6) pairs on them.
func slothGroup(slo, alert string, ratio func(w string) string) string {
	id := "api-" + slo
	sel := fmt.Sprintf(`{sloth_id=%q, sloth_service="api", sloth_slo=%q}`, id, slo)
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: sloth-slo-%s\n    rules:\n", id)
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} {
		fmt.Fprintf(&b, "      - record: slo:sli_error:ratio_rate%s\n        expr: |\n          %s\n        labels: {sloth_id: %s, sloth_service: api, sloth_slo: %s, sloth_window: %s}\n",
			w, strings.ReplaceAll(ratio(w), "\n", "\n          "), id, slo, w)
	}
	budget := "0.010000000000000009" // 1 - 99/100 in float, as Sloth writes it
	pair := func(short, long, f string) string {
		return fmt.Sprintf("(max(slo:sli_error:ratio_rate%s%s > (%s * %s)) without (sloth_window) and max(slo:sli_error:ratio_rate%s%s > (%s * %s)) without (sloth_window))",
			short, sel, f, budget, long, sel, f, budget)
	}
	fmt.Fprintf(&b, "      - alert: %s\n        expr: '%s or %s'\n        labels: {sloth_severity: page}\n", alert, pair("5m", "1h", "14.4"), pair("30m", "6h", "6"))
	return b.String()
}

// Sloth's documented rules and obsd's exported rules compute the same
// error ratios on the same series, and page at the same evaluations, for
// an events SLI (evaluated in obsd) and a raw one (export-only).
func TestSlothImportsMatchSlothsRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sloth.yaml")
	require.NoError(t, os.WriteFile(file, []byte(slothFile), 0o600))
	events := func(w string) string {
		return fmt.Sprintf(`(sum(rate(api_requests_total{job="api",code=~"5.."}[%s])))`+"\n/\n"+`(sum(rate(api_requests_total{job="api"}[%s])))`, w, w)
	}
	raw := func(w string) string {
		return fmt.Sprintf("(1 - (\n  sum(rate(api_requests_total{job=\"api\",code!~\"5..\"}[%s]))\n  /\n  sum(rate(api_requests_total{job=\"api\"}[%s]))\n)\n)", w, w)
	}
	ref := func(slo string) func(w string) string {
		return func(w string) string { return fmt.Sprintf(`slo:sli_error:ratio_rate%s{sloth_id="api-%s"}`, w, slo) }
	}
	runEquivalence(t, file, []equivalence{
		{slo: "api-events", reference: slothGroup("events", "ApiEvents", events), ratio: ref("events"),
			firing: `ALERTS{alertname="ApiEvents",alertstate="firing"}`},
		{slo: "api-raw", reference: slothGroup("raw", "ApiRaw", raw), ratio: ref("raw"),
			firing: `ALERTS{alertname="ApiRaw",alertstate="firing"}`},
	}, []string{"5m", "30m", "1h", "6h"})
}

const pyrraFile = `apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api-errors, namespace: api}
spec:
  target: "99"
  window: 28d
  indicator:
    ratio:
      errors: {metric: 'api_requests_total{job="api",code=~"5.."}'}
      total: {metric: 'api_requests_total{job="api"}'}
---
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api-latency, namespace: api}
spec:
  target: "99"
  window: 28d
  indicator:
    latency:
      success: {metric: 'api_duration_seconds_bucket{job="api",le="0.3"}'}
      total: {metric: 'api_duration_seconds_count{job="api"}'}
`

// pyrraGroup writes the rules Pyrra documents for a 28d SLO with target
// 99: <metric>:burnrate<w> recordings of its error ratio, and its critical
// alerts: 1h/5m above 14× the budget for 2m, 6h/30m above 7× for 15m.
func pyrraGroup(slo, record string, ratio func(w string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    rules:\n", slo)
	for _, w := range []string{"5m", "30m", "1h", "6h"} {
		fmt.Fprintf(&b, "      - record: %s:burnrate%s\n        expr: '%s'\n        labels: {slo: %s}\n", record, w, ratio(w), slo)
	}
	for _, p := range []struct{ short, long, factor, forDur string }{{"5m", "1h", "14", "2m"}, {"30m", "6h", "7", "15m"}} {
		fmt.Fprintf(&b, "      - alert: PyrraErrorBudgetBurn\n        expr: '%s:burnrate%s{slo=%q} > (%s * (1-0.99)) and %s:burnrate%s{slo=%q} > (%s * (1-0.99))'\n        for: %s\n        labels: {severity: critical, long: %s, short: %s}\n",
			record, p.short, slo, p.factor, record, p.long, slo, p.factor, p.forDur, p.long, p.short)
	}
	return b.String()
}

// Pyrra's documented rules and obsd's exported rules compute the same
// error ratios on the same series for a ratio and a latency SLO; each
// page pair fires at the same evaluations as Pyrra's, the 1h/5m pair
// after its 2m and the 6h/30m pair after its 15m (each pair keeps its
// own 'for').
func TestPyrraImportsMatchPyrrasRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pyrra.yaml")
	require.NoError(t, os.WriteFile(file, []byte(pyrraFile), 0o600))
	ratio := func(w string) string {
		return fmt.Sprintf(`sum(rate(api_requests_total{job="api",code=~"5.."}[%s])) / sum(rate(api_requests_total{job="api"}[%s]))`, w, w)
	}
	latency := func(w string) string {
		return fmt.Sprintf(`(sum(rate(api_duration_seconds_count{job="api"}[%s])) - sum(rate(api_duration_seconds_bucket{job="api",le="0.3"}[%s]))) / sum(rate(api_duration_seconds_count{job="api"}[%s]))`, w, w, w)
	}
	ref := func(record, slo string) func(w string) string {
		return func(w string) string { return fmt.Sprintf(`%s:burnrate%s{slo=%q}`, record, w, slo) }
	}
	runEquivalence(t, file, []equivalence{
		{slo: "api-errors", reference: pyrraGroup("api-errors", "api_requests", ratio), ratio: ref("api_requests", "api-errors"),
			firing: `ALERTS{alertname="PyrraErrorBudgetBurn",slo="api-errors",alertstate="firing"}`, pairs: pyrraPairs("api-errors")},
		{slo: "api-latency", reference: pyrraGroup("api-latency", "api_duration_seconds", latency), ratio: ref("api_duration_seconds", "api-latency"),
			firing: `ALERTS{alertname="PyrraErrorBudgetBurn",slo="api-latency",alertstate="firing"}`, pairs: pyrraPairs("api-latency")},
	}, []string{"5m", "30m", "1h", "6h"})
}

func pyrraPairs(slo string) []pairAlert {
	sel := func(long string) string {
		return fmt.Sprintf(`ALERTS{alertname="PyrraErrorBudgetBurn",slo=%q,long=%q,alertstate="firing"}`, slo, long)
	}
	return []pairAlert{{long: "1h", tool: sel("1h")}, {long: "6h", tool: sel("6h")}}
}
