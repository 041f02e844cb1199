package rules

import (
	"fmt"

	"github.com/prometheus/otlptranslator"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Rules over the agents' window sums.
//
// Every obsd agent in alert_mode ruler or both exports, per SLO instance
// and window, the exact events and bad events it counted in the window
// ending at a wall-clock-aligned instant (obsd_slo_window_events and
// obsd_slo_window_bad_events, labels slo, service, the SLO's labels, its
// group values, window, and the agent's instance). Every agent stamps the
// same instants, so summing the agents' latest samples is the cluster's
// exact sum: the error ratio is a ratio of sums, no rate() and no
// extrapolation. `sum by (<group labels>)` keeps whatever identity labels
// the pipeline added (instance, job, pod, node...) out.

// CalendarPeriodRecord is the recording rule of a calendar period's error
// ratio (the current calendar period so far), exported from the agents'
// sums; rolling periods keep ErrorRatioRecord + the period.
const CalendarPeriodRecord = "obsd_slo:sli_error:ratio_calendar_period"

// agentsNote is the comment line of an SLO whose rules read the agents.
const agentsNote = "reads the exact window sums obsd agents export with alert_mode ruler or both (" +
	contract.MetricWindowEvents + ", " + contract.MetricWindowBadEvents + "), added across agents; " +
	"every agent must use the same evaluation_interval, and each obsd exporting them must count a disjoint share of the events"

// labelNamer turns attribute names into the label names remote write and
// the Prometheus exporter give them (http.route → http_route).
var labelNamer = otlptranslator.LabelNamer{PreserveMultipleUnderscores: true}

// promLabel is the Prometheus label name of an attribute; a name that
// cannot be translated is kept (spec validation refuses those already).
func promLabel(name string) string {
	if l, err := labelNamer.Build(name); err == nil {
		return l
	}
	return name
}

// agentQueries reads an SLO's window sums, summed across agents.
func agentQueries(s *spec.SLO) queries {
	var by []string
	for _, g := range s.GroupBy() {
		by = append(by, promLabel(g))
	}
	q := queries{by: sumBy(by), agents: true}
	sel := func(metric string, w window) string {
		return fmt.Sprintf("%s{%s=%q, %s=%q}", metric, contract.LabelSLO, s.Name, contract.LabelWindow, w.label)
	}
	q.errorRatio = func(w window) string {
		return fmt.Sprintf("%s (%s)\n/\n%s (%s)", q.by, sel(contract.MetricWindowBadEvents, w), q.by, sel(contract.MetricWindowEvents, w))
	}
	q.events = func(w window) string { return fmt.Sprintf("%s (%s)", q.by, sel(contract.MetricWindowEvents, w)) }
	return q
}

// recordName is the error ratio rule's name of a window.
func recordName(s *spec.SLO, w window) string {
	if w.label == contract.WindowPeriod && s.Calendar != nil {
		return CalendarPeriodRecord
	}
	return ErrorRatioRecord + dur(w.d)
}
