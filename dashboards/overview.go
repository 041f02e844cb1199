package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/dashboardv2"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

const overviewTitle = "obsd SLO overview"

// OverviewDashboard lists every SLO in a table sorted by error budget
// remaining (least first), each row linking to the SLO's dashboard and
// runbook. The links come from labels the table's queries attach with
// label_replace (dashboard_uid, runbook_url), since Grafana cannot derive
// a uid from a name.
func OverviewDashboard(slos []*spec.SLO) (dashboard.Dashboard, error) {
	slos = sortedSLOs(slos)
	d := newDashboard(contract.OverviewDashboardUID, overviewTitle, []string{"obsd", "obsd-slo-overview"}, "now-24h").
		Links([]cog.Builder[dashboard.DashboardLink]{
			dashboard.NewDashboardLinkBuilder("SLO dashboards").Type(dashboard.DashboardLinkTypeDashboards).
				Tags([]string{"obsd-slo"}).AsDropdown(true).KeepTime(true),
			link("Agent health", "/d/"+contract.AgentHealthDashboardUID+"/"+contract.Slug(agentTitle), "dashboard"),
		})
	d.WithPanel(statPanel("SLOs", "none", nil,
		instantQuery("count("+contract.MetricObjective+") or vector(0)")).Span(6).Height(4))
	d.WithPanel(statPanel("SLOs with budget spent", "none", thresholds("green", step{1, "red"}),
		instantQuery("count("+contract.MetricBudgetRemaining+" <= 0) or vector(0)")).Span(6).Height(4))
	d.WithPanel(statPanel("Page alerts firing", "none", thresholds("green", step{1, "red"}),
		instantQuery("sum("+series(contract.MetricAlertActive, contract.LabelSeverity, contract.SeverityPage)+") or vector(0)")).Span(6).Height(4))
	d.WithPanel(statPanel("Ticket alerts firing", "none", thresholds("green", step{1, "orange"}),
		instantQuery("sum("+series(contract.MetricAlertActive, contract.LabelSeverity, contract.SeverityTicket)+") or vector(0)")).Span(6).Height(4))
	d.WithPanel(sloTable(slos).Span(24).Height(uint32(4 + 2*max(len(slos), 4))))
	d.WithPanel(withThresholdLines(timeseriesPanel("Error budget remaining, every SLO", "percentunit",
		rangeQuery(contract.MetricBudgetRemaining, "{{"+contract.LabelSLO+"}}")),
		thresholds("red", step{0, "transparent"})).Span(24).Height(9))
	return finish(contract.OverviewDashboardUID, d)
}

// sloTable is the table of every SLO with links to its dashboard and runbook.
func sloTable(slos []*spec.SLO) *table.PanelBuilder {
	q := func(expr string) *prometheus.DataqueryBuilder {
		return instantQuery(withLinks(slos, "max without(window, severity) ("+expr+")"))
	}
	p := tablePanel("SLOs by error budget remaining", "none", "Budget remaining", false,
		q(contract.MetricBudgetRemaining),
		q(contract.MetricObjective),
		q("1 - "+series(contract.MetricErrorRatio, contract.LabelWindow, contract.WindowPeriod)),
		q(series(contract.MetricBurnRate, contract.LabelWindow, "1h")),
		q(contract.MetricAlertActive)).
		Description("Click an SLO for its dashboard, a runbook for the runbook.").
		Align(common.FieldTextAlignmentAuto).Filterable(true).
		WithTransformation(transformation("merge", map[string]any{})).
		WithTransformation(transformation("organize", map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"renameByName": map[string]any{
				"Value #A": "Budget remaining", "Value #B": "Objective", "Value #C": "SLI (period)",
				"Value #D": "Burn rate (1h)", "Value #E": "Alert firing", "runbook_url": "Runbook",
			},
		}))
	cell := func(mode common.TableCellDisplayMode) dashboard.DynamicConfigValue {
		var opts common.TableCellOptions
		switch mode {
		case common.TableCellDisplayModeColorBackground:
			opts.TableColoredBackgroundCellOptions = common.NewTableColoredBackgroundCellOptions()
		default:
			opts.TableColorTextCellOptions = common.NewTableColorTextCellOptions()
		}
		return prop("custom.cellOptions", opts)
	}
	// Grafana's data links are {title, url, targetBlank}: the v1 dashboard
	// schema types field links as dashboard links (with type, icon, tags…),
	// so the link values use the SDK's DataLink type of the v2 schema.
	dataLink := func(title, url string, blank bool) dashboard.DynamicConfigValue {
		return prop("links", []dashboardv2.DataLink{{Title: title, Url: url, TargetBlank: cog.ToPtr(blank)}})
	}
	return p.
		OverrideByName("Budget remaining", []dashboard.DynamicConfigValue{prop("unit", "percentunit"), prop("decimals", 1),
			cell(common.TableCellDisplayModeColorBackground),
			prop("thresholds", thresholdsValue("red", step{0.1, "orange"}, step{0.25, "green"}))}).
		OverrideByName("Objective", []dashboard.DynamicConfigValue{prop("unit", "percentunit"), prop("decimals", 3)}).
		OverrideByName("SLI (period)", []dashboard.DynamicConfigValue{prop("unit", "percentunit"), prop("decimals", 3)}).
		OverrideByName("Burn rate (1h)", []dashboard.DynamicConfigValue{prop("decimals", 2), cell(common.TableCellDisplayModeColorText),
			prop("thresholds", thresholdsValue("green", step{1, "orange"}, step{6, "red"}))}).
		OverrideByName("Alert firing", []dashboard.DynamicConfigValue{cell(common.TableCellDisplayModeColorText),
			prop("mappings", valueMap(mapping{"0", "no", "green"}, mapping{"1", "yes", "red"})),
			prop("thresholds", thresholdsValue("green", step{1, "red"}))}).
		OverrideByName(contract.LabelSLO, []dashboard.DynamicConfigValue{
			dataLink("SLO dashboard", "/d/${__data.fields.dashboard_uid}?var-slo=${__value.raw}&${__url_time_range}", false)}).
		OverrideByName("Runbook", []dashboard.DynamicConfigValue{dataLink("Runbook", "${__value.raw}", true)}).
		OverrideByName("dashboard_uid", []dashboard.DynamicConfigValue{prop("custom.hidden", true)})
}

// withLinks attaches the labels dashboard_uid and runbook_url of each
// declared SLO to expr's series of that SLO. With no SLO declared it
// returns expr unchanged.
func withLinks(slos []*spec.SLO, expr string) string {
	if len(slos) == 0 {
		return expr
	}
	parts := make([]string, 0, len(slos))
	for _, s := range slos {
		e := addMatcher(expr, contract.LabelSLO+`=`+promString(s.Name))
		e = `label_replace(` + e + `, "dashboard_uid", ` + promString(replacement(contract.DashboardUID(s.Name))) + `, "", "")`
		if s.Alerting.RunbookURL != "" {
			e = `label_replace(` + e + `, "runbook_url", ` + promString(replacement(s.Alerting.RunbookURL)) + `, "", "")`
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, " or ")
}

// addMatcher adds a label matcher to the first (only) metric selector of
// expr, which is either "name" or "name{...}".
func addMatcher(expr, matcher string) string {
	i := strings.Index(expr, "obsd_")
	j := i
	for j < len(expr) && (expr[j] == '_' || (expr[j] >= 'a' && expr[j] <= 'z') || (expr[j] >= '0' && expr[j] <= '9')) {
		j++
	}
	if j < len(expr) && expr[j] == '{' {
		return expr[:j+1] + matcher + "," + expr[j+1:]
	}
	return expr[:j] + "{" + matcher + "}" + expr[j:]
}

// promString quotes s as a PromQL double-quoted string.
func promString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// replacement escapes "$" in a label_replace replacement (Go regexp expansion).
func replacement(s string) string { return strings.ReplaceAll(s, "$", "$$") }
