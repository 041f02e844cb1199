package slo

import (
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
)

// Window sums for a ruler (alert_mode ruler or both).
//
// Every evaluation exports, per SLO instance and window, the exact number
// of events and bad events the engine counted in the window ending at the
// evaluation instant: gauges obsd_slo_window_events and
// obsd_slo_window_bad_events with a window label (contract.Windows, plus
// contract.WindowLabel of every other alert window). Agents evaluate at
// wall-clock-aligned instants (multiples of evaluation_interval since the
// Unix epoch) and stamp the samples with them, and the engine's windows
// are made of epoch-aligned slices, so the samples of every agent for one
// instant cover the same slices and add up to the cluster's exact sums:
// `sum by (<group labels>) (...)` in a rule, no extrapolation.
//
// What is left: an event stamped after an evaluation instant but arriving
// before it is counted in that evaluation by the agent it reached; one that
// arrives late counts at the next evaluation (in its own slice, so every
// window that still covers it). A ruler that evaluates while an agent's
// latest sample has not arrived yet adds that agent's previous sample (one
// evaluation interval older); see docs/kubernetes.md.

// windowSumUnit is the unit of the window sums: a count of events
// (curly braces: an annotation, so Prometheus translation adds no suffix).
const windowSumUnit = "{event}"

// windowSum is one window's exact sums.
type windowSum struct {
	window     string
	total, bad float64
}

// windowSums lists the sums of the reported windows and the extra alert
// windows of a Status. The period window of a time-slice SLO counts
// slices, not events, and is left out.
func windowSums(st *sloengine.Status, timeslices bool) []windowSum {
	out := make([]windowSum, 0, len(st.Windows)+len(st.Extra))
	for i, w := range st.Windows {
		if i == sloengine.WindowPeriod && timeslices {
			continue
		}
		out = append(out, windowSum{window: contract.Windows[i], total: w.Total, bad: clampBad(w.Total, w.Bad)})
	}
	for _, w := range st.Extra {
		out = append(out, windowSum{window: w.Name, total: w.Total, bad: clampBad(w.Total, w.Bad)})
	}
	return out
}

// clampBad keeps a window's bad events within [0, total], as the engine
// clamps its error ratio (separate bad and total series may briefly
// disagree), so a ruler's ratio of sums stays within [0, 1].
func clampBad(total, bad float64) float64 { return min(max(bad, 0), max(total, 0)) }

// addSums emits a record's window sums.
func (e *emitter) addSums(r *record) {
	for _, s := range r.sums {
		e.point(e.winEvents, r, s.total, contract.LabelWindow, s.window)
		e.point(e.winBad, r, s.bad, contract.LabelWindow, s.window)
	}
}
