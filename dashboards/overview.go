package dashboards

import (
	"strings"

	"github.com/obsd-dev/obsd/dashboards/grafana"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

const overviewTitle = "obsd SLO overview"

// OverviewDashboard lists every SLO in a table sorted by error budget
// remaining (least first), each row linking to the SLO's dashboard and
// runbook. The links come from labels the table's queries attach with
// label_replace (dashboard_uid, runbook_url), since Grafana cannot derive
// a uid from a name.
func OverviewDashboard(slos []*spec.SLO) *grafana.Dashboard {
	slos = sortedSLOs(slos)
	b := &board{}
	b.add(6, 4, stat("SLOs", "none", nil, instant("count("+contract.MetricObjective+") or vector(0)")))
	b.add(6, 4, stat("SLOs with budget spent", "none", grafana.Steps("green", grafana.Step(1, "red")),
		instant("count("+contract.MetricBudgetRemaining+" <= 0) or vector(0)")))
	b.add(6, 4, stat("Page alerts firing", "none", grafana.Steps("green", grafana.Step(1, "red")),
		instant("sum("+series(contract.MetricAlertActive, contract.LabelSeverity, contract.SeverityPage)+") or vector(0)")))
	b.add(6, 4, stat("Ticket alerts firing", "none", grafana.Steps("green", grafana.Step(1, "orange")),
		instant("sum("+series(contract.MetricAlertActive, contract.LabelSeverity, contract.SeverityTicket)+") or vector(0)")))
	b.newRow()
	b.add(24, 4+2*max(len(slos), 4), sloTable(slos))
	b.add(24, 9, budgetTrend())
	d := newDashboard(contract.OverviewDashboardUID, overviewTitle, []string{"obsd", "obsd-slo-overview"}, "now-24h", b)
	d.Links = []grafana.Link{
		{Title: "SLO dashboards", Type: "dashboards", Tags: []string{"obsd-slo"}, AsDropdown: true, KeepTime: true},
		{Title: "Agent health", Type: "link", URL: "/d/" + contract.AgentHealthDashboardUID + "/" + contract.Slug(agentTitle), KeepTime: true, Icon: "dashboard"},
	}
	return d
}

// sloTable is the table of every SLO with links to its dashboard and runbook.
func sloTable(slos []*spec.SLO) grafana.Panel {
	q := func(expr string) grafana.Target {
		return instant(withLinks(slos, "max without(window, severity) ("+expr+")"))
	}
	p := grafana.Panel{
		Type: grafana.TypeTable, Title: "SLOs by error budget remaining",
		Description: "Click an SLO for its dashboard, a runbook for the runbook.",
		Targets: []grafana.Target{
			q(contract.MetricBudgetRemaining),
			q(contract.MetricObjective),
			q("1 - " + series(contract.MetricErrorRatio, contract.LabelWindow, contract.WindowPeriod)),
			q(series(contract.MetricBurnRate, contract.LabelWindow, "1h")),
			q(contract.MetricAlertActive),
		},
		Transformations: []grafana.Transformation{
			{ID: "merge", Options: map[string]any{}},
			{ID: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName": map[string]any{
					"Value #A": "Budget remaining", "Value #B": "Objective", "Value #C": "SLI (period)",
					"Value #D": "Burn rate (1h)", "Value #E": "Alert firing", "runbook_url": "Runbook",
				},
			}},
		},
		FieldConfig: grafana.FieldConfig{Defaults: grafana.FieldDefaults{
			Unit: "none", Thresholds: grafana.Steps("green"), Color: &grafana.FieldColor{Mode: "thresholds"},
			Custom: map[string]any{"align": "auto", "filterable": true},
		}, Overrides: tableOverrides()},
		Options: map[string]any{
			"showHeader": true,
			"sortBy":     []map[string]any{{"displayName": "Budget remaining", "desc": false}},
		},
	}
	return p
}

// tableOverrides sets units, colours, links and hidden columns of the SLO table.
func tableOverrides() []grafana.Override {
	by := func(name string, props ...grafana.OverrideProperty) grafana.Override {
		return grafana.Override{Matcher: grafana.OverrideMatcher{ID: "byName", Options: name}, Properties: props}
	}
	prop := func(id string, v any) grafana.OverrideProperty { return grafana.OverrideProperty{ID: id, Value: v} }
	cell := func(mode string) grafana.OverrideProperty {
		return prop("custom.cellOptions", map[string]any{"type": mode})
	}
	return []grafana.Override{
		by("Budget remaining", prop("unit", "percentunit"), prop("decimals", 1), cell("color-background"),
			prop("thresholds", grafana.Steps("red", grafana.Step(0.1, "orange"), grafana.Step(0.25, "green")))),
		by("Objective", prop("unit", "percentunit"), prop("decimals", 3)),
		by("SLI (period)", prop("unit", "percentunit"), prop("decimals", 3)),
		by("Burn rate (1h)", prop("decimals", 2), cell("color-text"),
			prop("thresholds", grafana.Steps("green", grafana.Step(1, "orange"), grafana.Step(6, "red")))),
		by("Alert firing", cell("color-text"),
			prop("mappings", valueMap([3]string{"0", "no", "green"}, [3]string{"1", "yes", "red"})),
			prop("thresholds", grafana.Steps("green", grafana.Step(1, "red")))),
		by("slo", prop("links", []grafana.DataLink{{
			Title: "SLO dashboard",
			URL:   "/d/${__data.fields.dashboard_uid}?var-slo=${__value.raw}&${__url_time_range}",
		}})),
		by("Runbook", prop("links", []grafana.DataLink{{Title: "Runbook", URL: "${__value.raw}", TargetBlank: true}})),
		by("dashboard_uid", prop("custom.hidden", true)),
	}
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

// budgetTrend shows every SLO's budget remaining over time.
func budgetTrend() grafana.Panel {
	p := timeseries("Error budget remaining, every SLO", "percentunit",
		target(contract.MetricBudgetRemaining, "{{"+contract.LabelSLO+"}}"))
	thresholdLines(&p, grafana.Steps("red", grafana.Step(0, "transparent")))
	return p
}
