package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/dashboards/grafana"
	"github.com/obsd-dev/obsd/slo/formats"
)

// knownMetrics are the metric names obsd exposes (checked by hand against
// a running obsd's :8888/metrics, the alerting, ratelimit and correlation
// READMEs, and the SLO connector's documented metrics). The e2e test of
// the next step checks MetricNames against a live scrape instead.
var knownMetrics = map[string]bool{
	"obsd_slo_objective_ratio": true, "obsd_slo_events_total": true, "obsd_slo_bad_events_total": true,
	"obsd_slo_sli_error_ratio": true, "obsd_slo_burn_rate": true,
	"obsd_slo_error_budget_remaining_ratio": true, "obsd_slo_alert_active": true,
	"otelcol_receiver_accepted_spans": true, "otelcol_receiver_accepted_metric_points": true, "otelcol_receiver_accepted_log_records": true,
	"otelcol_receiver_refused_spans": true, "otelcol_receiver_refused_metric_points": true, "otelcol_receiver_refused_log_records": true,
	"otelcol_receiver_failed_spans": true, "otelcol_receiver_failed_metric_points": true, "otelcol_receiver_failed_log_records": true,
	"otelcol_exporter_sent_spans": true, "otelcol_exporter_sent_metric_points": true, "otelcol_exporter_sent_log_records": true,
	"otelcol_exporter_send_failed_spans": true, "otelcol_exporter_send_failed_metric_points": true, "otelcol_exporter_send_failed_log_records": true,
	"otelcol_exporter_queue_size": true, "otelcol_exporter_queue_capacity": true,
	"otelcol_process_memory_rss": true, "otelcol_process_cpu_seconds": true,
	"obsd_correlation_log_records_total": true, "obsd_correlation_coverage_ratio": true,
	"obsd_alerts_sent_total": true, "obsd_alerts_queue_depth": true, "obsd_alerts_circuit_state": true,
	"obsd_ratelimit_requests_total": true, "obsd_shed_items_total": true,
}

// grafanaVar matches what Grafana would interpolate as a variable.
var grafanaVar = regexp.MustCompile(`\$(\{|[a-zA-Z_])`)

func allDashboards(t *testing.T) []*grafana.Dashboard {
	t.Helper()
	ds := Dashboards(loadSLOs(t))
	example, err := formats.Load("../slo.example.yaml")
	require.NoError(t, err)
	ds = append(ds, Dashboards(example)...)
	// An empty SLO list must give valid dashboards too.
	return append(ds, OverviewDashboard(nil))
}

func TestEveryExpressionParsesWithPrometheusParser(t *testing.T) {
	exprs := Expressions(allDashboards(t)...)
	require.NotEmpty(t, exprs)
	for _, e := range exprs {
		_, err := ParseExpression(e.Expr)
		assert.NoError(t, err, "%s / %s / %s: %s", e.Dashboard, e.Panel, e.RefID, e.Expr)
		assert.NotRegexp(t, grafanaVar, SubstituteVariables(e.Expr), "an unknown variable is left in %q", e.Expr)
	}
}

func TestEveryMetricNameIsOneObsdExposes(t *testing.T) {
	names, err := MetricNames(allDashboards(t)...)
	require.NoError(t, err)
	for _, n := range names {
		assert.True(t, knownMetrics[n], "%s is not a metric obsd exposes", n)
	}
	// Every documented metric is shown somewhere.
	used := map[string]bool{}
	for _, n := range names {
		used[n] = true
	}
	for n := range knownMetrics {
		assert.True(t, used[n], "%s is on no dashboard", n)
	}
}

func TestMetricNamesReportsAnExpressionThatDoesNotParse(t *testing.T) {
	d := &grafana.Dashboard{UID: "x", Panels: []grafana.Panel{{Title: "broken", Targets: []grafana.Target{{RefID: "A", Expr: "rate(x[5m]"}}}}}
	_, err := MetricNames(d)
	assert.ErrorContains(t, err, `dashboard "x" panel "broken" query A`)
}

func TestPanelsHaveUniqueIDsAndADatasourceVariable(t *testing.T) {
	for _, d := range allDashboards(t) {
		ids := map[int]bool{}
		for _, p := range d.Panels {
			assert.False(t, ids[p.ID], "%s: panel id %d twice", d.UID, p.ID)
			ids[p.ID] = true
			if p.Type == grafana.TypeRow {
				continue
			}
			require.NotNil(t, p.Datasource, "%s / %s", d.UID, p.Title)
			assert.Equal(t, "${datasource}", p.Datasource.UID, "%s / %s", d.UID, p.Title)
			assert.NotEmpty(t, p.Targets, "%s / %s has no query", d.UID, p.Title)
			for _, tg := range p.Targets {
				require.NotNil(t, tg.Datasource, "%s / %s / %s", d.UID, p.Title, tg.RefID)
				assert.Equal(t, "${datasource}", tg.Datasource.UID)
				assert.NotEmpty(t, tg.RefID)
			}
			assert.NotEmpty(t, p.FieldConfig.Defaults.Unit, "%s / %s has no unit", d.UID, p.Title)
		}
		v := d.Templating.List[0]
		assert.Equal(t, grafana.Variable{Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus",
			Current: &grafana.VariableValue{Text: "default", Value: "default"}}, v, d.UID)
		assert.GreaterOrEqual(t, d.SchemaVersion, 39)
		assert.LessOrEqual(t, len(d.UID), 40)
	}
}

func TestGridPositionsFitAndNeverOverlap(t *testing.T) {
	for _, d := range allDashboards(t) {
		for i, p := range d.Panels {
			g := p.GridPos
			assert.True(t, g.X >= 0 && g.Y >= 0 && g.W > 0 && g.H > 0 && g.X+g.W <= 24, "%s / %s: %+v", d.UID, p.Title, g)
			for _, q := range d.Panels[:i] {
				assert.False(t, overlap(g, q.GridPos), "%s: %q %+v overlaps %q %+v", d.UID, p.Title, g, q.Title, q.GridPos)
			}
		}
	}
}

func overlap(a, b grafana.GridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

func TestOverlapDetectsOverlaps(t *testing.T) {
	assert.True(t, overlap(grafana.GridPos{X: 0, Y: 0, W: 12, H: 8}, grafana.GridPos{X: 11, Y: 7, W: 4, H: 4}))
	assert.False(t, overlap(grafana.GridPos{X: 0, Y: 0, W: 12, H: 8}, grafana.GridPos{X: 12, Y: 0, W: 12, H: 8}))
	assert.False(t, overlap(grafana.GridPos{X: 0, Y: 0, W: 12, H: 8}, grafana.GridPos{X: 0, Y: 8, W: 24, H: 1}))
}

func TestSLODashboardShowsWhatTheIssueAsks(t *testing.T) {
	slos := loadSLOs(t)
	d := SLODashboard(slos[0]) // checkout-availability: 30d, default windows
	titles := map[string]grafana.Panel{}
	for _, p := range d.Panels {
		titles[p.Title] = p
	}
	for _, want := range []string{
		"Objective", "SLI over time", "Error budget remaining", "Error budget burndown (30d)",
		"Time to exhaustion at the 1h burn rate", "Alert state", "Events per second, good and bad",
		"Burn rate 1h / 5m (page at 14.4×)", "Burn rate 6h / 30m (page at 6×)",
		"Burn rate 1d / 2h (ticket at 3×)", "Burn rate 3d / 6h (ticket at 1×)",
	} {
		assert.Contains(t, titles, want)
	}
	p := titles["Burn rate 1h / 5m (page at 14.4×)"]
	th := p.FieldConfig.Defaults.Thresholds
	require.NotNil(t, th)
	assert.Equal(t, 14.4, *th.Steps[1].Value, "the page factor is drawn as a threshold line")
	assert.Equal(t, map[string]any{"mode": "line+area"}, p.FieldConfig.Defaults.Custom["thresholdsStyle"])
	assert.Equal(t, "30d", titles["Error budget burndown (30d)"].TimeFrom)
	assert.Equal(t, `obsd_slo_burn_rate{slo="$slo",window="1h"}`, p.Targets[0].Expr)
	assert.Equal(t, "1h region={{region}}", p.Targets[0].LegendFormat, "group-by labels are in the legend")
	slo := d.Templating.List[1]
	assert.Equal(t, "slo", slo.Name)
	assert.Equal(t, "checkout-availability", slo.Current.Value)
}

func TestAWindowObsdDoesNotExportIsNamedNotQueried(t *testing.T) {
	d := SLODashboard(loadSLOs(t)[1]) // checkout-latency: a 6h/10m pair, ticket disabled
	var found bool
	for _, p := range d.Panels {
		assert.NotContains(t, p.Title, "ticket")
		if p.Title == "Burn rate 6h / 10m (page at 2×)" {
			found = true
			require.Len(t, p.Targets, 1)
			assert.Contains(t, p.Targets[0].Expr, `window="6h"`)
			assert.Contains(t, p.Description, "does not export the window(s) 10m")
		}
	}
	assert.True(t, found)
}

func TestOverviewTableLinksEverySLOToItsDashboardAndRunbook(t *testing.T) {
	slos := loadSLOs(t)
	d := OverviewDashboard(slos)
	var table *grafana.Panel
	for i := range d.Panels {
		if d.Panels[i].Type == grafana.TypeTable {
			table = &d.Panels[i]
		}
	}
	require.NotNil(t, table)
	for _, tg := range table.Targets {
		assert.Equal(t, len(slos), strings.Count(tg.Expr, "max without(window, severity) ("),
			"every query drops window and severity so the merge transform joins one row per SLO instance: %s", tg.Expr)
	}
	expr := table.Targets[0].Expr
	for _, s := range slos {
		assert.Contains(t, expr, fmt.Sprintf(`"dashboard_uid", %q`, SLOUID(s.Name)))
	}
	assert.Contains(t, expr, `"runbook_url", "https://runbooks.example/checkout", "", ""`)
	assert.Contains(t, expr, `"https://runbooks.example/checkout-latency?section=$$1&x=\"y\""`,
		"$ is escaped for label_replace and quotes for PromQL")
	assert.Equal(t, 1, strings.Count(expr, "search.frontend:spans-errors-for-the-public-search-api"))
	assert.Equal(t, []map[string]any{{"displayName": "Budget remaining", "desc": false}}, table.Options["sortBy"])
	raw, err := json.Marshal(table.FieldConfig.Overrides)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `/d/${__data.fields.dashboard_uid}?var-slo=${__value.raw}`)
}

func TestAgentHealthQueriesFollowTheInstanceVariable(t *testing.T) {
	d := AgentHealthDashboard()
	exprs := Expressions(d)
	require.NotEmpty(t, exprs)
	for _, e := range exprs {
		assert.Contains(t, e.Expr, `instance=~"$instance"`, "%s: %s", e.Panel, e.Expr)
	}
	v := d.Templating.List[1]
	assert.Equal(t, "instance", v.Name)
	assert.Equal(t, "${datasource}", v.Datasource.UID)
	assert.True(t, v.IncludeAll && v.Multi)
}
