package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/formats"
)

// knownMetrics are the metric names obsd exposes (checked by hand against
// a running obsd's :8888/metrics, the alerting, ratelimit and correlation
// READMEs, and the SLO connector's documented metrics). The e2e test of
// the next step checks MetricNames against a live scrape instead.
var knownMetrics = map[string]bool{
	contract.MetricObjective: true, contract.MetricEvents: true, contract.MetricBadEvents: true,
	contract.MetricErrorRatio: true, contract.MetricBurnRate: true,
	contract.MetricBudgetRemaining: true, contract.MetricAlertActive: true,
	"otelcol_receiver_accepted_spans": true, "otelcol_receiver_accepted_metric_points": true, "otelcol_receiver_accepted_log_records": true,
	"otelcol_receiver_refused_spans": true, "otelcol_receiver_refused_metric_points": true, "otelcol_receiver_refused_log_records": true,
	"otelcol_receiver_failed_spans": true, "otelcol_receiver_failed_metric_points": true, "otelcol_receiver_failed_log_records": true,
	"otelcol_exporter_sent_spans": true, "otelcol_exporter_sent_metric_points": true, "otelcol_exporter_sent_log_records": true,
	"otelcol_exporter_send_failed_spans": true, "otelcol_exporter_send_failed_metric_points": true, "otelcol_exporter_send_failed_log_records": true,
	"otelcol_exporter_queue_size": true, "otelcol_exporter_queue_capacity": true,
	"otelcol_process_memory_rss": true, "otelcol_process_cpu_seconds": true,
	"obsd_correlation_log_records_total": true, "obsd_correlation_coverage_ratio": true,
	"obsd_alerts_sent_total": true, "obsd_alerts_queue_depth": true, breakerstate.AlertingGauge: true,
	"obsd_ratelimit_requests_total": true, "obsd_shed_items_total": true,
}

// grafanaVar matches what Grafana would interpolate as a variable.
var grafanaVar = regexp.MustCompile(`\$(\{|[a-zA-Z_])`)

func allDashboards(t *testing.T) []dashboard.Dashboard {
	t.Helper()
	ds, err := Dashboards(loadSLOs(t))
	require.NoError(t, err)
	example, err := formats.Load("../slo.example.yaml")
	require.NoError(t, err)
	more, err := Dashboards(example)
	require.NoError(t, err)
	// An empty SLO list must give valid dashboards too.
	empty, err := OverviewDashboard(nil)
	require.NoError(t, err)
	return append(append(ds, more...), empty)
}

// panels are d's panels and rows in order, as Grafana's JSON has them.
type gridPanel struct {
	id      uint32
	title   string
	row     bool
	gridPos dashboard.GridPos
	panel   *dashboard.Panel
}

func panelsOf(t *testing.T, d dashboard.Dashboard) []gridPanel {
	t.Helper()
	var out []gridPanel
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			require.NotNil(t, p.Panel.Id, "%s: a panel without an id", *d.Uid)
			require.NotNil(t, p.Panel.GridPos)
			out = append(out, gridPanel{id: *p.Panel.Id, title: deref(p.Panel.Title), gridPos: *p.Panel.GridPos, panel: p.Panel})
		case p.RowPanel != nil:
			require.NotNil(t, p.RowPanel.GridPos)
			assert.Empty(t, p.RowPanel.Panels, "%s: rows are expanded, their panels follow them", *d.Uid)
			out = append(out, gridPanel{id: p.RowPanel.Id, title: deref(p.RowPanel.Title), row: true, gridPos: *p.RowPanel.GridPos})
		default:
			t.Fatalf("%s: an empty panel", *d.Uid)
		}
	}
	return out
}

// panelByTitle is the panel of d titled title.
func panelByTitle(t *testing.T, d dashboard.Dashboard, title string) *dashboard.Panel {
	t.Helper()
	for _, p := range panelsOf(t, d) {
		if p.title == title && p.panel != nil {
			return p.panel
		}
	}
	t.Fatalf("%s has no panel %q", *d.Uid, title)
	return nil
}

// promTargets are p's queries as Prometheus queries.
func promTargets(t *testing.T, p *dashboard.Panel) []prometheus.Dataquery {
	t.Helper()
	var out []prometheus.Dataquery
	for _, tg := range p.Targets {
		q, ok := tg.(prometheus.Dataquery)
		require.True(t, ok, "%s: target %T is not a Prometheus query", deref(p.Title), tg)
		out = append(out, q)
	}
	return out
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

func TestExpressionsCarryTheirDashboardsSLO(t *testing.T) {
	slos := loadSLOs(t)
	d, err := SLODashboard(slos[2])
	require.NoError(t, err)
	exprs := Expressions(d)
	require.NotEmpty(t, exprs)
	for _, e := range exprs {
		assert.Equal(t, slos[2].Name, e.SLO)
		assert.NotContains(t, e.Query(DefaultVariables), "$")
	}
	assert.Equal(t, `max(obsd_slo_objective_ratio{slo="search.frontend:spans-errors-for-the-public-search-api"})`, exprs[0].Query(DefaultVariables))
	agent, err := AgentHealthDashboard()
	require.NoError(t, err)
	e := Expressions(agent)[0]
	assert.Empty(t, e.SLO)
	assert.Equal(t, `sum by (receiver) (rate(otelcol_receiver_accepted_spans{instance=~"obsd-1:8888"}[2m]))`,
		e.Query(Variables{RateInterval: "2m", Instance: "obsd-1:8888"}))
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
	d, err := dashboard.NewDashboardBuilder("x").Uid("x").
		WithPanel(timeseriesPanel("broken", "none", rangeQuery("rate(x[5m]", ""))).Build()
	require.NoError(t, err)
	_, err = MetricNames(d)
	assert.ErrorContains(t, err, `dashboard "x" panel "broken" query A`)
}

func TestPanelsHaveUniqueIDsAndADatasourceVariable(t *testing.T) {
	for _, d := range allDashboards(t) {
		uid := deref(d.Uid)
		ids := map[uint32]bool{}
		for _, gp := range panelsOf(t, d) {
			assert.False(t, ids[gp.id], "%s: panel id %d twice", uid, gp.id)
			assert.NotZero(t, gp.id, "%s / %s", uid, gp.title)
			ids[gp.id] = true
			if gp.row {
				continue
			}
			p := gp.panel
			require.NotNil(t, p.Datasource, "%s / %s", uid, gp.title)
			assert.Equal(t, "${datasource}", deref(p.Datasource.Uid), "%s / %s", uid, gp.title)
			assert.Equal(t, "prometheus", deref(p.Datasource.Type), "%s / %s", uid, gp.title)
			qs := promTargets(t, p)
			assert.NotEmpty(t, qs, "%s / %s has no query", uid, gp.title)
			for i, q := range qs {
				require.NotNil(t, q.Datasource, "%s / %s / %d", uid, gp.title, i)
				assert.Equal(t, "${datasource}", deref(q.Datasource.Uid))
				assert.Equal(t, string(rune('A'+i)), deref(q.RefId))
			}
			require.NotNil(t, p.FieldConfig, "%s / %s", uid, gp.title)
			assert.NotEmpty(t, deref(p.FieldConfig.Defaults.Unit), "%s / %s has no unit", uid, gp.title)
		}
		v := d.Templating.List[0]
		assert.Equal(t, "datasource", v.Name, uid)
		assert.Equal(t, dashboard.VariableTypeDatasource, v.Type, uid)
		assert.Equal(t, "Data source", deref(v.Label), uid)
		require.NotNil(t, v.Query, uid)
		assert.Equal(t, "prometheus", deref(v.Query.String), uid)
		require.NotNil(t, v.Current, uid)
		assert.Equal(t, "default", deref(v.Current.Value.String), uid)
		assert.GreaterOrEqual(t, d.SchemaVersion, uint16(39))
		assert.LessOrEqual(t, len(uid), 40)
		for _, l := range d.Links {
			assert.Nil(t, l.Placement, "%s: link %q is in the controls menu", uid, l.Title)
		}
	}
}

func TestGridPositionsFitAndNeverOverlap(t *testing.T) {
	for _, d := range allDashboards(t) {
		ps := panelsOf(t, d)
		for i, p := range ps {
			g := p.gridPos
			assert.True(t, g.W > 0 && g.H > 0 && g.X+g.W <= 24, "%s / %s: %+v", *d.Uid, p.title, g)
			for _, q := range ps[:i] {
				assert.False(t, overlap(g, q.gridPos), "%s: %q %+v overlaps %q %+v", *d.Uid, p.title, g, q.title, q.gridPos)
			}
		}
	}
}

func overlap(a, b dashboard.GridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

func TestOverlapDetectsOverlaps(t *testing.T) {
	assert.True(t, overlap(dashboard.GridPos{X: 0, Y: 0, W: 12, H: 8}, dashboard.GridPos{X: 11, Y: 7, W: 4, H: 4}))
	assert.False(t, overlap(dashboard.GridPos{X: 0, Y: 0, W: 12, H: 8}, dashboard.GridPos{X: 12, Y: 0, W: 12, H: 8}))
	assert.False(t, overlap(dashboard.GridPos{X: 0, Y: 0, W: 12, H: 8}, dashboard.GridPos{X: 0, Y: 8, W: 24, H: 1}))
}

func TestSLODashboardShowsWhatTheIssueAsks(t *testing.T) {
	slos := loadSLOs(t)
	d, err := SLODashboard(slos[0]) // checkout-availability: 30d, default windows
	require.NoError(t, err)
	for _, want := range []string{
		"Objective", "SLI over time", "Error budget remaining", "Error budget burndown (30d)",
		"Time to exhaustion at the 1h burn rate", "Alert state", "Events per second, good and bad",
		"Burn rate 1h / 5m (page at 14.4×)", "Burn rate 6h / 30m (page at 6×)",
		"Burn rate 1d / 2h (ticket at 3×)", "Burn rate 3d / 6h (ticket at 1×)",
	} {
		panelByTitle(t, d, want)
	}
	p := panelByTitle(t, d, "Burn rate 1h / 5m (page at 14.4×)")
	th := p.FieldConfig.Defaults.Thresholds
	require.NotNil(t, th)
	assert.Equal(t, 14.4, *th.Steps[1].Value, "the page factor is drawn as a threshold line")
	custom, ok := p.FieldConfig.Defaults.Custom.(*common.GraphFieldConfig)
	require.True(t, ok, "%T", p.FieldConfig.Defaults.Custom)
	require.NotNil(t, custom.ThresholdsStyle)
	assert.Equal(t, common.GraphThresholdsStyleModeLineAndArea, custom.ThresholdsStyle.Mode)
	assert.Equal(t, "30d", deref(panelByTitle(t, d, "Error budget burndown (30d)").TimeFrom))
	q := promTargets(t, p)[0]
	assert.Equal(t, `obsd_slo_burn_rate{slo="$slo",window="1h"}`, q.Expr)
	assert.Equal(t, "1h region={{region}}", deref(q.LegendFormat), "group-by labels are in the legend")
	slo := d.Templating.List[1]
	assert.Equal(t, "slo", slo.Name)
	assert.Equal(t, dashboard.VariableHideHideVariable, *slo.Hide)
	assert.Equal(t, "checkout-availability", deref(slo.Current.Value.String))
}

func TestAWindowObsdDoesNotExportIsNamedNotQueried(t *testing.T) {
	d, err := SLODashboard(loadSLOs(t)[1]) // checkout-latency: a 6h/10m pair, ticket disabled
	require.NoError(t, err)
	for _, p := range panelsOf(t, d) {
		assert.NotContains(t, p.title, "ticket")
	}
	p := panelByTitle(t, d, "Burn rate 6h / 10m (page at 2×)")
	qs := promTargets(t, p)
	require.Len(t, qs, 1)
	assert.Contains(t, qs[0].Expr, `window="6h"`)
	assert.Contains(t, deref(p.Description), "does not export the window(s) 10m")
}

func TestOverviewTableLinksEverySLOToItsDashboardAndRunbook(t *testing.T) {
	slos := loadSLOs(t)
	d, err := OverviewDashboard(slos)
	require.NoError(t, err)
	table := panelByTitle(t, d, "SLOs by error budget remaining")
	assert.Equal(t, "table", table.Type)
	qs := promTargets(t, table)
	for _, q := range qs {
		assert.Equal(t, len(slos), strings.Count(q.Expr, "max without(window, severity) ("),
			"every query drops window and severity so the merge transform joins one row per SLO instance: %s", q.Expr)
	}
	expr := qs[0].Expr
	for _, s := range slos {
		assert.Contains(t, expr, fmt.Sprintf(`"dashboard_uid", %q`, contract.DashboardUID(s.Name)))
	}
	assert.Contains(t, expr, `"runbook_url", "https://runbooks.example/checkout", "", ""`)
	assert.Contains(t, expr, `"https://runbooks.example/checkout-latency?section=$$1&x=\"y\""`,
		"$ is escaped for label_replace and quotes for PromQL")
	assert.Equal(t, 1, strings.Count(expr, "search.frontend:spans-errors-for-the-public-search-api"))
	raw, err := json.Marshal(table)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"sortBy":[{"displayName":"Budget remaining","desc":false}]`)
	assert.Contains(t, string(raw), `{"title":"SLO dashboard","url":"/d/${__data.fields.dashboard_uid}?var-slo=${__value.raw}\u0026${__url_time_range}","targetBlank":false}`)
	assert.Contains(t, string(raw), `{"title":"Runbook","url":"${__value.raw}","targetBlank":true}`)
}

func TestAgentHealthQueriesFollowTheInstanceVariable(t *testing.T) {
	d, err := AgentHealthDashboard()
	require.NoError(t, err)
	exprs := Expressions(d)
	require.NotEmpty(t, exprs)
	for _, e := range exprs {
		assert.Contains(t, e.Expr, `instance=~"$instance"`, "%s: %s", e.Panel, e.Expr)
	}
	v := d.Templating.List[1]
	assert.Equal(t, "instance", v.Name)
	assert.Equal(t, "${datasource}", deref(v.Datasource.Uid))
	assert.True(t, *v.IncludeAll && *v.Multi)
	assert.Equal(t, ".*", deref(v.AllValue))
}
