package dashboards

import (
	"github.com/obsd-dev/obsd/dashboards/grafana"
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
func AgentHealthDashboard() *grafana.Dashboard {
	b := &board{}
	b.row("Pipelines")
	for _, sg := range signals {
		b.add(8, 8, timeseries("Receivers: "+sg.name+" accepted / refused / failed", "cps",
			target(rate("receiver", "otelcol_receiver_accepted_"+sg.suffix), "{{receiver}} accepted"),
			target(rate("receiver", "otelcol_receiver_refused_"+sg.suffix), "{{receiver}} refused"),
			target(rate("receiver", "otelcol_receiver_failed_"+sg.suffix), "{{receiver}} failed")))
	}
	for _, sg := range signals {
		b.add(8, 8, timeseries("Exporters: "+sg.name+" sent / failed", "cps",
			target(rate("exporter", "otelcol_exporter_sent_"+sg.suffix), "{{exporter}} sent"),
			target(rate("exporter", "otelcol_exporter_send_failed_"+sg.suffix), "{{exporter}} failed")))
	}
	b.row("Queues and backends")
	b.add(12, 8, timeseries("Exporter queue size and capacity", "short",
		target("sum by (exporter) (otelcol_exporter_queue_size"+inst+")", "{{exporter}} size"),
		target("sum by (exporter) (otelcol_exporter_queue_capacity"+inst+")", "{{exporter}} capacity")))
	b.add(12, 8, stateTimeline("Alert delivery circuit breakers",
		valueMap([3]string{"0", "closed", "green"}, [3]string{"1", "half-open", "orange"}, [3]string{"2", "open", "red"}),
		target("max by ("+breakerstate.AlertingGaugeLabel+") ("+breakerstate.AlertingGauge+inst+")", "{{"+breakerstate.AlertingGaugeLabel+"}}")))
	b.row("Protection")
	b.add(12, 8, limitedClients())
	shed := timeseries("Shed data by reason", "cps", target(rate("signal, reason", "obsd_shed_items_total"), "{{signal}} {{reason}}"))
	shed.Description = "Items the shed processor dropped under pressure, by reason."
	b.add(12, 8, shed)
	b.row("Correlation and alerting")
	cov := timeseries("Log correlation coverage per service", "percentunit",
		target("max by (service) (obsd_correlation_coverage_ratio"+inst+")", "{{service}}"))
	cov.FieldConfig.Defaults.Min, cov.FieldConfig.Defaults.Max = grafana.F(0), grafana.F(1)
	b.add(8, 8, cov)
	b.add(8, 8, timeseries("Log records by correlation outcome", "cps",
		target(rate("outcome, source", "obsd_correlation_log_records_total"), "{{outcome}} {{source}}")))
	b.add(8, 8, timeseries("Alert deliveries by outcome", "cps",
		target(rate("destination, outcome", "obsd_alerts_sent_total"), "{{destination}} {{outcome}}"),
		target("sum by (destination) (obsd_alerts_queue_depth"+inst+")", "{{destination}} queued")))
	b.row("Process")
	b.add(12, 8, timeseries("Memory (RSS)", "bytes", target("otelcol_process_memory_rss"+inst, "rss {{instance}}")))
	b.add(12, 8, timeseries("CPU (cores)", "percentunit", target("rate(otelcol_process_cpu_seconds"+inst+"[$__rate_interval])", "cpu {{instance}}")))
	instance := grafana.Variable{
		Name: "instance", Label: "obsd instance", Type: "query", Datasource: grafana.DatasourceVar,
		Query: "label_values(otelcol_process_uptime, instance)", Refresh: 2, IncludeAll: true, Multi: true,
		AllValue: ".*", Current: &grafana.VariableValue{Text: "All", Value: "$__all"},
	}
	d := newDashboard(contract.AgentHealthDashboardUID, agentTitle, []string{"obsd", "obsd-agent"}, "now-6h", b, instance)
	d.Links = []grafana.Link{
		{Title: "SLO overview", Type: "link", URL: "/d/" + contract.OverviewDashboardUID + "/" + contract.Slug(overviewTitle), KeepTime: true, Icon: "dashboard"},
	}
	return d
}

// limitedClients is the table of clients the rate limiter refused most.
func limitedClients() grafana.Panel {
	p := grafana.Panel{
		Type: grafana.TypeTable, Title: "Rate-limited clients (refused requests in range)",
		Targets: []grafana.Target{instant(`topk(20, sum by (client, tier) (increase(obsd_ratelimit_requests_total{outcome="refused",instance=~"$instance"}[$__range])) > 0)`)},
		Transformations: []grafana.Transformation{{ID: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"renameByName":  map[string]any{"Value": "Refused"},
		}}},
		FieldConfig: grafana.FieldConfig{Defaults: grafana.FieldDefaults{
			Unit: "short", Thresholds: grafana.Steps("green"), Color: &grafana.FieldColor{Mode: "thresholds"},
		}, Overrides: []grafana.Override{}},
		Options: map[string]any{"showHeader": true, "sortBy": []map[string]any{{"displayName": "Refused", "desc": true}}},
	}
	return p
}
