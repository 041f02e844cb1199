package dashboards

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/common/model"

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
func SLODashboard(s *spec.SLO) (dashboard.Dashboard, error) {
	uid := contract.DashboardUID(s.Name)
	service := "service:" + s.Service
	if s.Service == "" { // a discovered SLO: one instance per service
		service = "discovered"
	}
	d := newDashboard(uid, contract.DashboardTitle(s.Name), []string{"obsd", "obsd-slo", service}, "now-24h").
		WithVariable(dashboard.NewCustomVariableBuilder(sloVariable).Label("SLO").
			Values(dashboard.StringOrMap{String: cog.ToPtr(s.Name)}).Hide(dashboard.VariableHideHideVariable).
			Current(option(s.Name, true)).Options([]dashboard.VariableOption{option(s.Name, true)}))
	if s.Description != "" {
		d.Description(s.Description)
	}
	links := []cog.Builder[dashboard.DashboardLink]{
		link("SLO overview", "/d/"+contract.OverviewDashboardUID+"/"+contract.Slug(overviewTitle), "dashboard"),
		link("Agent health", "/d/"+contract.AgentHealthDashboardUID+"/"+contract.Slug(agentTitle), "dashboard"),
	}
	if s.Alerting.RunbookURL != "" {
		links = append(links, dashboard.NewDashboardLinkBuilder("Runbook").Type(dashboard.DashboardLinkTypeLink).
			Url(s.Alerting.RunbookURL).Icon("doc").TargetBlank(true))
	}
	d.Links(links)
	sloStats(d, s)
	sloTrends(d, s)
	d.WithRow(dashboard.NewRowBuilder("Burn rate per alert window"))
	burnRatePanels(d, s)
	d.WithRow(dashboard.NewRowBuilder("Error budget"))
	budgetPanels(d, s)
	return finish(uid, d)
}

// sloStats is the top row: objective, SLI, budget, time to exhaustion,
// burn rate and alert state at a glance.
func sloStats(d *dashboard.DashboardBuilder, s *spec.SLO) {
	d.WithPanel(statPanel("Objective", "percentunit", nil,
		instantQuery("max("+sloSeries(contract.MetricObjective)+")")).Decimals(3).Span(4).Height(5))

	d.WithPanel(statPanel("SLI over the period ("+promDuration(s.Period)+")", "percentunit",
		thresholds("red", step{s.Objective, "green"}),
		rangeQuery("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, contract.WindowPeriod), legend(s, ""))).
		Decimals(3).Span(4).Height(5))

	d.WithPanel(gaugePanel("Error budget remaining", "percentunit",
		thresholds("red", step{0.1, "orange"}, step{0.25, "green"}),
		rangeQuery(sloSeries(contract.MetricBudgetRemaining), legend(s, ""))).Decimals(1).Span(4).Height(5))

	d.WithPanel(statPanel("Time to exhaustion at the 1h burn rate", "s",
		thresholds("red", step{86400, "orange"}, step{7 * 86400, "green"}),
		rangeQuery(timeToExhaustion(s), legend(s, ""))).
		NoValue("not burning").
		Description("Remaining budget × period ÷ the 1h burn rate; empty while the 1h burn rate is 0.").Span(4).Height(5))

	d.WithPanel(statPanel("Burn rate (1h)", "none",
		thresholds("green", step{1, "orange"}, step{firstFactor(s), "red"}),
		rangeQuery(sloSeries(contract.MetricBurnRate, contract.LabelWindow, "1h"), legend(s, ""))).Decimals(2).Span(4).Height(5))

	d.WithPanel(statPanel("Alerts firing", "none", thresholds("green", step{1, "red"}),
		rangeQuery("sum("+sloSeries(contract.MetricAlertActive)+") or vector(0)", "firing")).
		Mappings(valueMap(mapping{"0", "none", "green"})).Span(4).Height(5))
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
func sloTrends(d *dashboard.DashboardBuilder, s *spec.SLO) {
	d.WithPanel(withThresholdLines(timeseriesPanel("SLI over time", "percentunit",
		rangeQuery("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, "5m"), legend(s, "5m")),
		rangeQuery("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, "1h"), legend(s, "1h")),
		rangeQuery("1 - "+sloSeries(contract.MetricErrorRatio, contract.LabelWindow, contract.WindowPeriod), legend(s, promDuration(s.Period)))),
		thresholds("red", step{s.Objective, "transparent"})).
		Description(fmt.Sprintf("Good-event ratio over 5m, 1h and the period; the line is the objective (%s).", percent(s.Objective))).
		Span(12).Height(8))

	d.WithPanel(timeseriesPanel("Events per second, good and bad", "cps",
		rangeQuery("rate("+sloSeries(contract.MetricEvents)+"[$__rate_interval]) - rate("+sloSeries(contract.MetricBadEvents)+"[$__rate_interval])", legend(s, "good")),
		rangeQuery("rate("+sloSeries(contract.MetricBadEvents)+"[$__rate_interval])", legend(s, "bad"))).
		OverrideByRegexp("^bad.*", []dashboard.DynamicConfigValue{fixedColor("red")}).
		OverrideByRegexp("^good.*", []dashboard.DynamicConfigValue{fixedColor("green")}).
		Span(12).Height(8))

	d.WithPanel(stateTimelinePanel("Alert state",
		valueMap(mapping{"0", "inactive", "green"}, mapping{"1", "firing", "red"}),
		rangeQuery(sloSeries(contract.MetricAlertActive), legend(s, "{{severity}}"))).Span(24).Height(5))
}

// fixedColor is the override property that colours a series.
func fixedColor(color string) dashboard.DynamicConfigValue {
	return prop("color", dashboard.FieldColor{Mode: dashboard.FieldColorModeIdFixed, FixedColor: cog.ToPtr(color)})
}

// percent formats a ratio as a percentage without trailing zeros.
func percent(r float64) string { return strconv.FormatFloat(r*100, 'f', -1, 64) + "%" }

// burnRatePanels draws one panel per alert window pair with its long and
// short burn rates and the pair's factor as a threshold line.
func burnRatePanels(d *dashboard.DashboardBuilder, s *spec.SLO) {
	type pair struct {
		sev  string
		p    spec.WindowPair
		forD time.Duration
	}
	var pairs []pair
	for _, sv := range s.Alerting.Severities() {
		if !sv.Enabled {
			continue
		}
		for i, p := range sv.Windows {
			pairs = append(pairs, pair{sv.Name, p, sv.PairFor(i)})
		}
	}
	for _, p := range pairs {
		long, short := promDuration(p.p.Long), promDuration(p.p.Short)
		var qs []*prometheus.DataqueryBuilder
		var missing []string
		for _, w := range []string{long, short} {
			if !slices.Contains(contract.Windows[:], w) || w == contract.WindowPeriod {
				missing = append(missing, w)
				continue
			}
			qs = append(qs, rangeQuery(sloSeries(contract.MetricBurnRate, contract.LabelWindow, w), legend(s, w)))
		}
		factor := strconv.FormatFloat(p.p.Factor, 'f', -1, 64)
		desc := fmt.Sprintf("The %s alert holds when both burn rates reach %s (pending for %s before firing).", p.sev, factor, promDuration(p.forD))
		if len(missing) > 0 {
			desc += " obsd does not export the window(s) " + strings.Join(missing, ", ") + " (only " + strings.Join(contract.Windows[:], " ") + ")."
		}
		d.WithPanel(withThresholdLines(timeseriesPanel(fmt.Sprintf("Burn rate %s / %s (%s at %s×)", long, short, p.sev, factor), "none", qs...),
			thresholds("transparent", step{p.p.Factor, "red"})).Description(desc).Span(12).Height(8))
	}
	d.WithPanel(withThresholdLines(timeseriesPanel("Burn rate, every window", "none",
		rangeQuery(sloSeries(contract.MetricBurnRate), legend(s, "{{window}}"))),
		thresholds("transparent", step{1, "orange"})).
		Description("A burn rate of 1 spends exactly the budget over the period.").Span(12).Height(8))
}

// budgetPanels shows the error budget remaining over the whole period (burndown).
func budgetPanels(d *dashboard.DashboardBuilder, s *spec.SLO) {
	period := promDuration(s.Period)
	d.WithPanel(withThresholdLines(timeseriesPanel("Error budget burndown ("+period+")", "percentunit",
		rangeQuery(sloSeries(contract.MetricBudgetRemaining), legend(s, "remaining"))),
		thresholds("red", step{0, "transparent"})).
		TimeFrom(period).
		Description("Budget left over the rolling period: 100% unspent, 0 spent, below 0 overspent.").Span(16).Height(8))

	d.WithPanel(statPanel("Bad events in the period", "short", nil,
		rangeQuery("increase("+sloSeries(contract.MetricBadEvents)+"["+period+"])", legend(s, ""))).
		TimeFrom(period).Span(8).Height(8))
}

// sortedSLOs returns the SLOs sorted by name.
func sortedSLOs(slos []*spec.SLO) []*spec.SLO {
	out := append([]*spec.SLO(nil), slos...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
