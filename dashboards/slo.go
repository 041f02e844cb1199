package dashboards

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/dashboards/grafana"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// promDuration formats d the way Prometheus and obsd's window label do (1h, 1d, 30m).
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// legend returns a legend prefix followed by the SLO's group-by labels
// (for a discovered SLO, its service).
func legend(s *spec.SLO, prefix string) string {
	var keys []string
	switch {
	case s.SLI.Metric != nil:
		keys = s.SLI.Metric.GroupBy
	case s.SLI.Latency != nil:
		keys = s.SLI.Latency.GroupBy
	case s.SLI.Spans != nil:
		keys = s.GroupBy()
	}
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	for _, k := range keys {
		parts = append(parts, k+"={{"+k+"}}")
	}
	if len(parts) == 0 {
		return "{{slo}}"
	}
	return strings.Join(parts, " ")
}

// SLODashboard returns the dashboard of one SLO. Its queries select the
// SLO through the hidden "slo" variable (preset to the SLO's name), so
// the URL from DashboardURL and a copy of the JSON for another SLO work.
func SLODashboard(s *spec.SLO) *grafana.Dashboard {
	b := &board{}
	sloStats(b, s)
	b.newRow()
	sloTrends(b, s)
	b.row("Burn rate per alert window")
	burnRatePanels(b, s)
	b.row("Error budget")
	budgetPanels(b, s)
	slo := grafana.Variable{
		Name: sloVariable, Label: "SLO", Type: "custom", Query: s.Name, Hide: 2,
		Current: &grafana.VariableValue{Selected: true, Text: s.Name, Value: s.Name},
		Options: []grafana.VariableOption{{Selected: true, Text: s.Name, Value: s.Name}},
	}
	service := "service:" + s.Service
	if s.Service == "" { // a discovered SLO: one instance per service
		service = "discovered"
	}
	d := newDashboard(contract.DashboardUID(s.Name), contract.DashboardTitle(s.Name), []string{"obsd", "obsd-slo", service}, "now-24h", b, slo)
	d.Description = s.Description
	d.Links = []grafana.Link{
		{Title: "SLO overview", Type: "link", URL: "/d/" + contract.OverviewDashboardUID + "/" + contract.Slug(overviewTitle), KeepTime: true, Icon: "dashboard"},
		{Title: "Agent health", Type: "link", URL: "/d/" + contract.AgentHealthDashboardUID + "/" + contract.Slug(agentTitle), KeepTime: true, Icon: "dashboard"},
	}
	if s.Alerting.RunbookURL != "" {
		d.Links = append(d.Links, grafana.Link{Title: "Runbook", Type: "link", URL: s.Alerting.RunbookURL, TargetBlank: true, Icon: "doc"})
	}
	return d
}

// sloStats is the top row: objective, SLI, budget, time to exhaustion,
// burn rate and alert state at a glance.
func sloStats(b *board, s *spec.SLO) {
	obj := stat("Objective", "percentunit", nil, instant("max("+sloSeries(contract.MetricObjective)+")"))
	obj.FieldConfig.Defaults.Decimals = grafana.I(3)
	b.add(4, 5, obj)

	sli := stat("SLI over the period ("+promDuration(s.Period)+")", "percentunit",
		grafana.Steps("red", grafana.Step(s.Objective, "green")),
		target("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, contract.WindowPeriod), legend(s, "")))
	sli.FieldConfig.Defaults.Decimals = grafana.I(3)
	b.add(4, 5, sli)

	budget := grafana.Panel{
		Type: grafana.TypeGauge, Title: "Error budget remaining",
		Targets: []grafana.Target{target(sloSeries(contract.MetricBudgetRemaining), legend(s, ""))},
		FieldConfig: grafana.FieldConfig{Defaults: grafana.FieldDefaults{
			Unit: "percentunit", Min: grafana.F(0), Max: grafana.F(1), Decimals: grafana.I(1),
			Color:      &grafana.FieldColor{Mode: "thresholds"},
			Thresholds: grafana.Steps("red", grafana.Step(0.1, "orange"), grafana.Step(0.25, "green")),
		}, Overrides: []grafana.Override{}},
		Options: map[string]any{
			"reduceOptions":        map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
			"showThresholdMarkers": true, "showThresholdLabels": false,
		},
	}
	b.add(4, 5, budget)

	tte := stat("Time to exhaustion at the 1h burn rate", "s",
		grafana.Steps("red", grafana.Step(86400, "orange"), grafana.Step(7*86400, "green")),
		target(timeToExhaustion(s), legend(s, "")))
	tte.FieldConfig.Defaults.NoValue = "not burning"
	tte.Description = "Remaining budget × period ÷ the 1h burn rate; empty while the 1h burn rate is 0."
	b.add(4, 5, tte)

	burn := stat("Burn rate (1h)", "none",
		grafana.Steps("green", grafana.Step(1, "orange"), grafana.Step(firstFactor(s), "red")),
		target(sloSeries(contract.MetricBurnRate, contract.LabelWindow, "1h"), legend(s, "")))
	burn.FieldConfig.Defaults.Decimals = grafana.I(2)
	b.add(4, 5, burn)

	alerts := stat("Alerts firing", "none", grafana.Steps("green", grafana.Step(1, "red")),
		target("sum("+sloSeries(contract.MetricAlertActive)+") or vector(0)", "firing"))
	alerts.FieldConfig.Defaults.Mappings = valueMap([3]string{"0", "none", "green"})
	b.add(4, 5, alerts)
}

// timeToExhaustion is remaining budget × period ÷ 1h burn rate, for burn rates above 0.
func timeToExhaustion(s *spec.SLO) string {
	secs := strconv.FormatFloat(s.Period.Seconds(), 'f', -1, 64)
	return "clamp_min(" + sloSeries(contract.MetricBudgetRemaining) + ", 0) * " + secs +
		" / ignoring(" + contract.LabelWindow + ") (" + sloSeries(contract.MetricBurnRate, contract.LabelWindow, "1h") + " > 0)"
}

// firstFactor is the highest page factor (the red burn-rate level), 14.4 by default.
func firstFactor(s *spec.SLO) float64 {
	f := 0.0
	for _, p := range append(append([]spec.WindowPair{}, s.Alerting.Page.Windows...), s.Alerting.Ticket.Windows...) {
		f = max(f, p.Factor)
	}
	if f == 0 {
		return 14.4
	}
	return f
}

// sloTrends shows the SLI, alert states and good/bad event rates over time.
func sloTrends(b *board, s *spec.SLO) {
	sli := timeseries("SLI over time", "percentunit",
		target("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, "5m"), legend(s, "5m")),
		target("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, "1h"), legend(s, "1h")),
		target("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, contract.WindowPeriod), legend(s, promDuration(s.Period))))
	thresholdLines(&sli, grafana.Steps("red", grafana.Step(s.Objective, "transparent")))
	sli.Description = fmt.Sprintf("Good-event ratio over 5m, 1h and the period; the line is the objective (%s).", percent(s.Objective))
	b.add(12, 8, sli)

	events := timeseries("Events per second, good and bad", "cps",
		target("rate("+sloSeries(contract.MetricEvents)+"[$__rate_interval]) - rate("+sloSeries(contract.MetricBadEvents)+"[$__rate_interval])", legend(s, "good")),
		target("rate("+sloSeries(contract.MetricBadEvents)+"[$__rate_interval])", legend(s, "bad")))
	events.FieldConfig.Overrides = []grafana.Override{colorOverride("bad", "red"), colorOverride("good", "green")}
	b.add(12, 8, events)

	b.add(24, 5, stateTimeline("Alert state",
		valueMap([3]string{"0", "inactive", "green"}, [3]string{"1", "firing", "red"}),
		target(sloSeries(contract.MetricAlertActive), legend(s, "{{severity}}"))))
}

// colorOverride colours series whose name starts with prefix.
func colorOverride(prefix, color string) grafana.Override {
	return grafana.Override{
		Matcher:    grafana.OverrideMatcher{ID: "byRegexp", Options: "^" + prefix + ".*"},
		Properties: []grafana.OverrideProperty{{ID: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}},
	}
}

// percent formats a ratio as a percentage without trailing zeros.
func percent(r float64) string { return strconv.FormatFloat(r*100, 'f', -1, 64) + "%" }

// burnRatePanels draws one panel per alert window pair with its long and
// short burn rates and the pair's factor as a threshold line.
func burnRatePanels(b *board, s *spec.SLO) {
	type pair struct {
		sev  string
		p    spec.WindowPair
		forD time.Duration
	}
	var pairs []pair
	for _, sv := range []struct {
		name string
		sev  spec.Severity
	}{{"page", s.Alerting.Page}, {"ticket", s.Alerting.Ticket}} {
		if !sv.sev.Enabled {
			continue
		}
		for _, p := range sv.sev.Windows {
			pairs = append(pairs, pair{sv.name, p, sv.sev.For})
		}
	}
	for _, p := range pairs {
		long, short := promDuration(p.p.Long), promDuration(p.p.Short)
		var ts []grafana.Target
		var missing []string
		for _, w := range []string{long, short} {
			if !slices.Contains(contract.Windows[:], w) || w == contract.WindowPeriod {
				missing = append(missing, w)
				continue
			}
			ts = append(ts, target(sloSeries(contract.MetricBurnRate, contract.LabelWindow, w), legend(s, w)))
		}
		factor := strconv.FormatFloat(p.p.Factor, 'f', -1, 64)
		pn := timeseries(fmt.Sprintf("Burn rate %s / %s (%s at %s×)", long, short, p.sev, factor), "none", ts...)
		thresholdLines(&pn, grafana.Steps("transparent", grafana.Step(p.p.Factor, "red")))
		pn.Description = fmt.Sprintf("The %s alert holds when both burn rates reach %s (pending for %s before firing).", p.sev, factor, promDuration(p.forD))
		if len(missing) > 0 {
			pn.Description += " obsd does not export the window(s) " + strings.Join(missing, ", ") + " (only " + strings.Join(contract.Windows[:], " ") + ")."
		}
		b.add(12, 8, pn)
	}
	all := timeseries("Burn rate, every window", "none", target(sloSeries(contract.MetricBurnRate), legend(s, "{{window}}")))
	thresholdLines(&all, grafana.Steps("transparent", grafana.Step(1, "orange")))
	all.Description = "A burn rate of 1 spends exactly the budget over the period."
	b.add(12, 8, all)
}

// budgetPanels shows the error budget remaining over the whole period (burndown).
func budgetPanels(b *board, s *spec.SLO) {
	period := promDuration(s.Period)
	burndown := timeseries("Error budget burndown ("+period+")", "percentunit",
		target(sloSeries(contract.MetricBudgetRemaining), legend(s, "remaining")))
	burndown.TimeFrom = period
	thresholdLines(&burndown, grafana.Steps("red", grafana.Step(0, "transparent")))
	burndown.Description = "Budget left over the rolling period: 100% unspent, 0 spent, below 0 overspent."
	b.add(16, 8, burndown)

	bad := stat("Bad events in the period", "short", nil,
		target("increase("+sloSeries(contract.MetricBadEvents)+"["+period+"])", legend(s, "")))
	bad.TimeFrom = period
	b.add(8, 8, bad)
}

// sortedSLOs returns the SLOs sorted by name.
func sortedSLOs(slos []*spec.SLO) []*spec.SLO {
	out := append([]*spec.SLO(nil), slos...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
