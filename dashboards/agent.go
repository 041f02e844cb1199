package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
)

const agentTitle = "obsd agent health"

// signals are the collector's per-signal metric suffixes.
var signals = []struct{ suffix, name string }{
	{"spans", "spans"}, {"metric_points", "metric points"}, {"log_records", "log records"},
}

// inst selects the obsd instances chosen in the "instance" variable.
const inst = `{instance=~"$instance"}`

// rate is the per-second rate of counter summed by the labels in by.
func rate(by, counter string) string {
	return "sum by (" + by + ") (rate(" + counter + inst + "[$__rate_interval]))"
}

// AgentHealthDashboard shows obsd's own health: data accepted, refused
// and sent per signal, exporter queues, circuit breakers, rate-limited
// clients, shed data, log correlation coverage, alert delivery, memory
// and CPU. It reads the collector's self-metrics as obsd exposes them
// (no _total suffix on upstream counters) and obsd's own obsd_* metrics.
func AgentHealthDashboard() (dashboard.Dashboard, error) {
	instanceQuery := "label_values(otelcol_process_uptime, instance)"
	d := newDashboard(contract.AgentHealthDashboardUID, agentTitle, []string{"obsd", "obsd-agent"}, "now-6h").
		WithVariable(dashboard.NewQueryVariableBuilder("instance").Label("obsd instance").Datasource(datasourceRef).
			Query(dashboard.StringOrMap{String: cog.ToPtr(instanceQuery)}).Definition(instanceQuery).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).IncludeAll(true).Multi(true).AllValue(".*").
			Hide(dashboard.VariableHideDontHide).
			Current(dashboard.VariableOption{Selected: cog.ToPtr(false), Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}})).
		Links([]cog.Builder[dashboard.DashboardLink]{
			link("SLO overview", "/d/"+contract.OverviewDashboardUID+"/"+contract.Slug(overviewTitle), "dashboard"),
		})

	d.WithRow(dashboard.NewRowBuilder("Pipelines"))
	for _, sg := range signals {
		d.WithPanel(timeseriesPanel("Receivers: "+sg.name+" accepted / refused / failed", "cps",
			rangeQuery(rate("receiver", "otelcol_receiver_accepted_"+sg.suffix), "{{receiver}} accepted"),
			rangeQuery(rate("receiver", "otelcol_receiver_refused_"+sg.suffix), "{{receiver}} refused"),
			rangeQuery(rate("receiver", "otelcol_receiver_failed_"+sg.suffix), "{{receiver}} failed")).Span(8).Height(8))
	}
	for _, sg := range signals {
		d.WithPanel(timeseriesPanel("Exporters: "+sg.name+" sent / failed", "cps",
			rangeQuery(rate("exporter", "otelcol_exporter_sent_"+sg.suffix), "{{exporter}} sent"),
			rangeQuery(rate("exporter", "otelcol_exporter_send_failed_"+sg.suffix), "{{exporter}} failed")).Span(8).Height(8))
	}

	d.WithRow(dashboard.NewRowBuilder("Queues and backends"))
	d.WithPanel(timeseriesPanel("Exporter queue size and capacity", "short",
		rangeQuery("sum by (exporter) (otelcol_exporter_queue_size"+inst+")", "{{exporter}} size"),
		rangeQuery("sum by (exporter) (otelcol_exporter_queue_capacity"+inst+")", "{{exporter}} capacity")).Span(12).Height(8))
	d.WithPanel(stateTimelinePanel("Alert delivery circuit breakers",
		valueMap(mapping{"0", "closed", "green"}, mapping{"1", "half-open", "orange"}, mapping{"2", "open", "red"}),
		rangeQuery("max by ("+breakerstate.AlertingGaugeLabel+") ("+breakerstate.AlertingGauge+inst+")", "{{"+breakerstate.AlertingGaugeLabel+"}}")).
		Span(12).Height(8))

	d.WithRow(dashboard.NewRowBuilder("Protection"))
	d.WithPanel(limitedClients().Span(12).Height(8))
	d.WithPanel(timeseriesPanel("Shed data by reason", "cps",
		rangeQuery(rate("signal, reason", "obsd_shed_items_total"), "{{signal}} {{reason}}")).
		Description("Items the shed processor dropped under pressure, by reason.").Span(12).Height(8))

	d.WithRow(dashboard.NewRowBuilder("Correlation and alerting"))
	d.WithPanel(timeseriesPanel("Log correlation coverage per service", "percentunit",
		rangeQuery("max by (service) (obsd_correlation_coverage_ratio"+inst+")", "{{service}}")).Min(0).Max(1).Span(8).Height(8))
	d.WithPanel(timeseriesPanel("Log records by correlation outcome", "cps",
		rangeQuery(rate("outcome, source", "obsd_correlation_log_records_total"), "{{outcome}} {{source}}")).Span(8).Height(8))
	d.WithPanel(timeseriesPanel("Alert deliveries by outcome", "cps",
		rangeQuery(rate("destination, outcome", "obsd_alerts_sent_total"), "{{destination}} {{outcome}}"),
		rangeQuery("sum by (destination) (obsd_alerts_queue_depth"+inst+")", "{{destination}} queued")).Span(8).Height(8))

	d.WithRow(dashboard.NewRowBuilder("Process"))
	d.WithPanel(timeseriesPanel("Memory (RSS)", "bytes", rangeQuery("otelcol_process_memory_rss"+inst, "rss {{instance}}")).Span(12).Height(8))
	d.WithPanel(timeseriesPanel("CPU (cores)", "percentunit",
		rangeQuery("rate(otelcol_process_cpu_seconds"+inst+"[$__rate_interval])", "cpu {{instance}}")).Span(12).Height(8))
	return finish(contract.AgentHealthDashboardUID, d)
}

// limitedClients is the table of clients the rate limiter refused most.
func limitedClients() *table.PanelBuilder {
	return tablePanel("Rate-limited clients (refused requests in range)", "short", "Refused", true,
		instantQuery(`topk(20, sum by (client, tier) (increase(obsd_ratelimit_requests_total{outcome="refused",instance=~"$instance"}[$__range])) > 0)`)).
		WithTransformation(transformation("organize", map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"renameByName":  map[string]any{"Value": "Refused"},
		}))
}
