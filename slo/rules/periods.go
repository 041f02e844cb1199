package rules

import (
	"fmt"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// NoteAnnotation is the annotation that tells, on every alert of an SLO
// whose period PromQL cannot express, what the exported rules leave out.
const NoteAnnotation = "obsd_period_note"

// periodNote says what the export of s cannot carry, "" when nothing.
//
// obsd's alerts read event ratios over rolling windows with factors
// scaled to SLO.Period (the longest calendar period for calendar SLOs),
// for every period kind and budgeting method, so the alerting rules and
// their window recording rules are exported as obsd runs them. What PromQL
// cannot express is the period's own error ratio: a calendar period is
// not a rolling window, and a time-slice SLI counts judged slices, not
// events. That recording rule is left out (never approximated by a
// rolling event ratio that would disagree with obsd's budget); obsd's
// obsd_slo_error_budget_remaining_ratio and obsd_slo_period_*_seconds
// carry the budget instead.
func periodNote(s *spec.SLO) string {
	var what string
	switch {
	case s.Calendar != nil && s.Budgeting.Method != spec.Occurrences:
		what = fmt.Sprintf("calendar %s period counted in %s time slices", s.Calendar, dur(s.Budgeting.SliceWindow))
	case s.Calendar != nil:
		what = fmt.Sprintf("calendar %s period", s.Calendar)
	case s.Budgeting.Method != spec.Occurrences:
		what = fmt.Sprintf("%s period counted in %s time slices (%s)", dur(s.Period), dur(s.Budgeting.SliceWindow), s.Budgeting.Method)
	default:
		return ""
	}
	return what + ": PromQL cannot express its error budget, so no period error ratio rule is exported; " +
		"the burn-rate alerts are exact (rolling windows, factors for " + dur(s.Period) +
		"); read the budget from " + contract.MetricBudgetRemaining
}
