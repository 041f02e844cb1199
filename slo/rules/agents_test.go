package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

const agentSLOs = `version: obsd/v1
slos:
  - name: pay-spans
    service: pay
    objective: 99
    period: 1h
    labels: {team: payments}
    sli:
      spans:
        bad: {status_error: true}
    alerting:
      min_events: 20
      runbook_url: https://runbooks.example/pay
      page:
        windows:
          - {long: 5m, short: 1m, burn_rate: 10}
      ticket:
        enabled: false
  - name: worker-logs
    service: worker
    objective: 99
    period: 1h
    sli:
      logs:
        min_severity: ERROR
        group_by: [http.route]
    alerting:
      min_events: 20
      page:
        windows:
          - {long: 5m, short: 1m, burn_rate: 10}
      ticket:
        enabled: false
`

// agentSeries is one agent's window sums of one SLO: per minute (from 0)
// the 1m and 5m events and bad events.
type agentSeries struct {
	instance, slo, service, extra string
	ev1, bad1, ev5, bad5          []float64
}

func values(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, " ")
}

func (a agentSeries) input() string {
	var b strings.Builder
	for _, s := range []struct {
		metric, window string
		vs             []float64
	}{{"obsd_slo_window_events", "1m", a.ev1}, {"obsd_slo_window_bad_events", "1m", a.bad1},
		{"obsd_slo_window_events", "5m", a.ev5}, {"obsd_slo_window_bad_events", "5m", a.bad5}} {
		fmt.Fprintf(&b, "      - series: '%s{job=\"obsd\", instance=%q, slo=%q, service=%q, window=%q%s}'\n        values: '%s'\n",
			s.metric, a.instance, a.slo, a.service, s.window, a.extra, values(s.vs))
	}
	return b.String()
}

// Two agents' sums go through the exported rules in `promtool test rules`:
// the recorded ratio is the ratio of the summed sums; one agent burning
// alone on its share does not page; the cluster burning does; a cluster
// under min_events does not; group labels come out as remote write names
// them; labels and annotations are obsd's.
func TestPromtoolAgentRulesAddAgents(t *testing.T) {
	slos, err := formats.Parse("agents.yaml", []byte(agentSLOs))
	require.NoError(t, err)
	out, err := Generate(slos, Options{GrafanaURL: "https://grafana.example"})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), out, 0o600))

	// minute:       0    1    2    3    4    5    6    7    8
	// a (1m):     10/5  10/5 10/5 10/5 10/5 10/5  5/5  5/5  5/5   one agent's share burns at 50
	// b (1m):     90/0  90/0 90/0 90/10 90/10 90/10 5/0 5/0 5/0   the cluster: 5% (burn 5), then 15% (burn 15), then 10 events only
	a := agentSeries{instance: "node-a", slo: "pay-spans", service: "pay", extra: `, team="payments"`,
		ev1: []float64{10, 10, 10, 10, 10, 10, 5, 5, 5}, bad1: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5},
		ev5: []float64{50, 50, 50, 50, 50, 50, 45, 40, 35}, bad5: []float64{25, 25, 25, 25, 25, 25, 25, 25, 25}}
	b := agentSeries{instance: "node-b", slo: "pay-spans", service: "pay", extra: `, team="payments"`,
		ev1: []float64{90, 90, 90, 90, 90, 90, 5, 5, 5}, bad1: []float64{0, 0, 0, 10, 10, 10, 0, 0, 0},
		ev5: []float64{450, 450, 450, 450, 450, 450, 365, 280, 195}, bad5: []float64{0, 0, 0, 10, 20, 30, 30, 30, 20}}
	// The log SLO, grouped by http.route: two agents, one route.
	la := agentSeries{instance: "node-a", slo: "worker-logs", service: "worker", extra: `, http_route="/jobs"`,
		ev1: []float64{30, 30, 30, 30, 30, 30, 30, 30, 30}, bad1: []float64{6, 6, 6, 6, 6, 6, 6, 6, 6},
		ev5: []float64{150, 150, 150, 150, 150, 150, 150, 150, 150}, bad5: []float64{30, 30, 30, 30, 30, 30, 30, 30, 30}}
	lb := agentSeries{instance: "node-b", slo: "worker-logs", service: "worker", extra: `, http_route="/jobs"`,
		ev1: []float64{70, 70, 70, 70, 70, 70, 70, 70, 70}, bad1: []float64{0, 0, 0, 0, 0, 0, 0, 0, 0},
		ev5: []float64{350, 350, 350, 350, 350, 350, 350, 350, 350}, bad5: []float64{0, 0, 0, 0, 0, 0, 0, 0, 0}}

	var tf strings.Builder
	tf.WriteString("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
	for _, s := range []agentSeries{a, b, la, lb} {
		tf.WriteString(s.input())
	}
	tf.WriteString(`    promql_expr_test:
      - expr: obsd_slo:sli_error:ratio_rate1m{slo="pay-spans"}
        eval_time: 2m
        exp_samples: [{labels: 'obsd_slo:sli_error:ratio_rate1m{slo="pay-spans", service="pay", team="payments"}', value: 0.05}]
      - expr: obsd_slo:sli_error:ratio_rate5m{slo="pay-spans"}
        eval_time: 5m
        exp_samples: [{labels: 'obsd_slo:sli_error:ratio_rate5m{slo="pay-spans", service="pay", team="payments"}', value: 0.11}]
      - expr: obsd_slo:sli_events:increase5m{slo="pay-spans"}
        eval_time: 5m
        exp_samples: [{labels: 'obsd_slo:sli_events:increase5m{slo="pay-spans", service="pay", team="payments"}', value: 500}]
      - expr: obsd_slo:sli_error:ratio_rate1m{slo="worker-logs"}
        eval_time: 3m
        exp_samples: [{labels: 'obsd_slo:sli_error:ratio_rate1m{slo="worker-logs", service="worker", http_route="/jobs"}', value: 0.06}]
    alert_rule_test:
      - alertname: SLOErrorBudgetBurn
        eval_time: 2m
        exp_alerts: []
      - alertname: SLOErrorBudgetBurn
        eval_time: 5m
        exp_alerts:
          - exp_labels: {alertname: SLOErrorBudgetBurn, slo: pay-spans, service: pay, team: payments, severity: page, long_window: 5m, short_window: 1m}
            exp_annotations:
              summary: SLO pay-spans of service pay is burning its error budget (page)
              description: 'The error budget of pay-spans (objective 99%) burns at least 10× over 5m and 1m; burn rate over 5m: 11.'
              runbook_url: https://runbooks.example/pay
              dashboard_url: https://grafana.example/d/obsd-slo-pay-spans/slo-pay-spans?var-slo=pay-spans
      - alertname: SLOErrorBudgetBurn
        eval_time: 7m
        exp_alerts: []
`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test.yml"), []byte(tf.String()), 0o600))
	promtool(t, dir, "rules:\n"+string(out), "test", "rules", "test.yml")
}

func TestPromtoolCheckRulesFromAgents(t *testing.T) {
	agents, err := formats.Parse("agents.yaml", []byte(agentSLOs))
	require.NoError(t, err)
	periods, err := formats.Load("testdata/periods/periods.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		slos []*spec.SLO
		opts Options
	}{
		{"span and log SLIs", agents, Options{}},
		{"every test SLO from agents, latency included", load(t), Options{Source: SourceAgents}},
		{"calendar and time-slice periods from agents", periods, Options{Source: SourceAgents}},
		{"the mimir format", load(t), Options{Source: SourceAgents, Format: FormatMimir, Namespace: "slos"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Generate(tc.slos, tc.opts)
			require.NoError(t, err)
			rules := out
			if tc.opts.Format == FormatMimir {
				// mimirtool's file is promtool's plus a namespace line.
				rules = []byte(strings.Replace(string(out), "namespace: slos\n", "", 1))
			}
			path := filepath.Join(t.TempDir(), "rules.yml")
			require.NoError(t, os.WriteFile(path, rules, 0o600))
			promtool(t, "", string(out), "check", "rules", "--lint-fatal", path)
		})
	}
}

func TestPeriodsFromAgents(t *testing.T) {
	slos, err := formats.Load("testdata/periods/periods.yaml")
	require.NoError(t, err)
	groups, _ := Groups(slos, Options{Source: SourceAgents})
	require.Len(t, groups, 3)
	records := func(i int) []string {
		var out []string
		for _, r := range groups[i].Rules {
			if r.Record != "" {
				out = append(out, r.Record)
			}
		}
		return out
	}
	assert.Contains(t, records(0), CalendarPeriodRecord, "the agents count the calendar month: its ratio is a sum")
	for _, r := range groups[0].Rules {
		if r.Record == CalendarPeriodRecord {
			assert.Contains(t, r.Expr, `window="period"`)
		}
		assert.NotContains(t, r.Annotations, NoteAnnotation)
	}
	assert.NotContains(t, records(1), ErrorRatioRecord+"4w", "time slices: no period rule")
	for _, r := range groups[1].Rules {
		if r.Alert != "" {
			assert.Contains(t, r.Annotations[NoteAnnotation], "every agent judges the slices of its own share")
		}
	}
	assert.Contains(t, records(2), ErrorRatioRecord+"4w")
	out, err := Generate(slos, Options{Source: SourceAgents})
	require.NoError(t, err)
	assert.Contains(t, string(out), `# SLO "pay-slices": period counted in 5m time slices (timeslices): every agent judges`)
	assert.NotContains(t, string(out), `# SLO "pay-month": calendar`, "nothing to say about the calendar month")
}

// A query offset lets a ruler read instants every agent has written; it
// is a group field of Prometheus ≥ 2.53 and Mimir ≥ 2.13, so it is only
// written when asked for (Prometheus 2.42's promtool refuses it).
func TestQueryOffset(t *testing.T) {
	slos, err := formats.Parse("agents.yaml", []byte(agentSLOs))
	require.NoError(t, err)
	for _, format := range []string{FormatPrometheus, FormatMimir} {
		out, err := Generate(slos, Options{Format: format, QueryOffset: 15 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, 2, strings.Count(string(out), "query_offset: 15s"), format)
		if format == FormatPrometheus {
			groups, errs := rulefmt.Parse(out, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
			require.Empty(t, errs)
			for _, g := range groups.Groups {
				require.NotNil(t, g.QueryOffset)
				assert.Equal(t, model.Duration(15*time.Second), *g.QueryOffset)
			}
		}
		plain, err := Generate(slos, Options{Format: format})
		require.NoError(t, err)
		assert.NotContains(t, string(plain), "query_offset")
	}
	_, err = Generate(slos, Options{QueryOffset: -time.Second})
	require.ErrorContains(t, err, "'query_offset' must not be negative")
}
