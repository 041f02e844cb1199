package contract

import (
	"strconv"
	"strings"
	"time"
)

// The obsd_slo_* metrics the slo connector emits (down its metrics pipelines
// and on obsd's own /metrics). Dashboards, exported rules, self-rules and
// the status page read them under these names and labels only.
const (
	// MetricObjective is the SLO's objective as a ratio (0.999), a gauge.
	MetricObjective = "obsd_slo_objective_ratio"
	// MetricEvents counts every event of the SLO since it was created.
	MetricEvents = "obsd_slo_events_total"
	// MetricBadEvents counts the SLO's bad events since it was created.
	MetricBadEvents = "obsd_slo_bad_events_total"
	// MetricErrorRatio is the SLI error ratio over a window (LabelWindow).
	MetricErrorRatio = "obsd_slo_sli_error_ratio"
	// MetricBurnRate is the error budget burn rate over a window (LabelWindow).
	MetricBurnRate = "obsd_slo_burn_rate"
	// MetricBudgetRemaining is the error budget left over the period: 1
	// unspent, 0 spent, negative overspent.
	MetricBudgetRemaining = "obsd_slo_error_budget_remaining_ratio"
	// MetricAlertActive is 1 while the SLO's alert of a severity
	// (LabelSeverity) is firing.
	MetricAlertActive = "obsd_slo_alert_active"
	// MetricPeriodStart and MetricPeriodEnd bound the reported period
	// [start, end) in Unix seconds: the current calendar period, or
	// (now − period, now] for a rolling one.
	MetricPeriodStart = "obsd_slo_period_start_seconds"
	MetricPeriodEnd   = "obsd_slo_period_end_seconds"
	// MetricPoints counts the data points, spans and log records offered to
	// the SLO engine, by LabelOutcome.
	MetricPoints = "obsd_slo_points_total"
	// MetricRestoreFailures counts state files unreadable at start, by
	// LabelState (StateFileSLO or StateFileAlerting).
	MetricRestoreFailures = "obsd_slo_state_restore_failures_total"
	// MetricGroupOverflow counts the items a grouped SLO counted in its
	// overflow instance because it reached its group_by_limit, by LabelSLO.
	MetricGroupOverflow = "obsd_slo_group_overflow_total"
	// MetricWindowEvents is a gauge: the exact number of events one agent
	// counted in the window (LabelWindow) ending at the sample's timestamp.
	// Agents evaluate at wall-clock-aligned instants, so a ruler adds the
	// samples of every agent for one instant into the cluster's sum
	// (alert_mode ruler or both).
	MetricWindowEvents = "obsd_slo_window_events"
	// MetricWindowBadEvents is MetricWindowEvents for the bad events.
	MetricWindowBadEvents = "obsd_slo_window_bad_events"
	// MetricJournalRecords counts the journal records of accepted requests
	// (their SLO events, kept between two snapshots so that a crash loses
	// none), by LabelOutcome (the Journal* values).
	MetricJournalRecords = "obsd_slo_journal_records_total"
)

// Values of LabelOutcome on MetricJournalRecords.
const (
	// JournalCommitted: written in the same storage batch as the exporter
	// queue's put of the request.
	JournalCommitted = "committed"
	// JournalWritten: written alone (no queue put of the same log carried
	// it), before the request was acknowledged.
	JournalWritten = "written"
	// JournalFailed: could not be written; the events were counted, but a
	// crash before the next snapshot loses them.
	JournalFailed = "failed"
	// JournalReplayed: replayed at start over the last snapshot.
	JournalReplayed = "replayed"
	// JournalDropped: unreadable at start, or naming SLOs no longer
	// declared; not (or only partly) replayed.
	JournalDropped = "dropped"
)

// EmittedMetrics are the per-SLO metrics the slo connector emits down its
// metrics pipelines on every evaluation (and also exposes on obsd's own
// /metrics), in alert mode both (local leaves out the window sums, ruler
// the per-agent ratios, burn rates, budget, period bounds and alert
// states). The others (MetricPoints, MetricRestoreFailures,
// MetricGroupOverflow, MetricJournalRecords) are self-metrics, on /metrics
// only.
var EmittedMetrics = [...]string{MetricObjective, MetricEvents, MetricBadEvents, MetricErrorRatio, MetricBurnRate,
	MetricBudgetRemaining, MetricAlertActive, MetricPeriodStart, MetricPeriodEnd, MetricWindowEvents, MetricWindowBadEvents}

// Labels of the obsd_slo_* metrics. Every per-SLO series also carries the
// SLO's own labels and its group-by values.
const (
	LabelSLO      = "slo"
	LabelService  = "service"
	LabelWindow   = "window"
	LabelSeverity = "severity"
	LabelOutcome  = "outcome"
	LabelState    = "state"
)

// Values of LabelState on MetricRestoreFailures.
const (
	StateFileSLO      = "slo"
	StateFileAlerting = "alerting"
)

// Windows are the values of LabelWindow, shortest first: the windows every
// evaluation reports. The last, WindowPeriod, is the SLO's own period. The
// others are WindowLabel of 5m, 30m, 1h, 2h, 6h, 24h and 72h.
var Windows = [...]string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", WindowPeriod}

// WindowPeriod is the LabelWindow value of the SLO's period.
const WindowPeriod = "period"

// WindowLabel is the LabelWindow value of a window of length d (an alert
// window that is not one of Windows, e.g. a custom 2m short window): the
// duration as Prometheus writes it (model.Duration: years and weeks only
// when they divide it exactly, then d, h, m, s, ms), so "5m", "1h30m",
// "1d", "31d", "4w". The exported rules select the window sums by it.
func WindowLabel(d time.Duration) string {
	ms := int64(d / time.Millisecond)
	if ms <= 0 {
		return "0s"
	}
	var b strings.Builder
	unit := func(name string, mult int64, exact bool) {
		if exact && ms%mult != 0 {
			return
		}
		if n := ms / mult; n > 0 {
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteString(name)
			ms -= n * mult
		}
	}
	const day = 24 * 3600 * 1000
	unit("y", 365*day, true)
	unit("w", 7*day, true)
	unit("d", day, false)
	unit("h", 3600*1000, false)
	unit("m", 60*1000, false)
	unit("s", 1000, false)
	unit("ms", 1, false)
	return b.String()
}

// LabelInstance is the label that tells agents apart: the slo connector
// puts its 'instance' setting (default: the host name) into the resource
// attribute ResourceInstance of what it emits, which remote write turns
// into this label (and a scrape sets from its target). Rules summing
// across agents leave it out.
const LabelInstance = "instance"

// ResourceInstance is the OpenTelemetry resource attribute that carries
// an agent's identity on the emitted metrics (service.instance.id).
const ResourceInstance = "service.instance.id"

// Where an agent's SLO alerts are decided (the slo connector's
// alert_mode), as the status page shows it.
const (
	// AlertsLocal: the agent evaluates and sends its alerts itself.
	AlertsLocal = "local"
	// AlertsRuler: the agent counts and exports its window sums; a
	// Prometheus-compatible ruler adds every agent's sums and alerts.
	AlertsRuler = "ruler"
	// AlertsBoth: both of the above.
	AlertsBoth = "both"
)

// Help returns the description a metric of this contract is exposed with
// ("" for a name that is not one of its metrics).
func Help(metric string) string {
	switch metric {
	case MetricObjective:
		return "SLO objective as a ratio (0.999)."
	case MetricEvents:
		return "Events counted by the SLO since it was created."
	case MetricBadEvents:
		return "Bad events counted by the SLO since it was created."
	case MetricErrorRatio:
		return "SLI error ratio over the window."
	case MetricBurnRate:
		return "Error budget burn rate over the window."
	case MetricBudgetRemaining:
		return "Error budget remaining over the period (1 unspent, negative overspent)."
	case MetricAlertActive:
		return "1 while the SLO's alert of this severity is firing."
	case MetricPeriodStart:
		return "Start of the SLO's reported period (the current calendar period, or now minus the rolling period), Unix seconds."
	case MetricPeriodEnd:
		return "End of the SLO's reported period (the end of the current calendar period, or now), Unix seconds."
	case MetricPoints:
		return "Data points, spans and log records offered to the SLO engine, by outcome."
	case MetricRestoreFailures:
		return "State files (state=slo: the SLO snapshot, state=alerting: the alert state) unreadable at start; obsd started that state fresh."
	case MetricJournalRecords:
		return "Journal records of accepted requests' SLO events (kept between snapshots so that a crash loses none), by outcome."
	case MetricGroupOverflow:
		return "Data points, spans and log records of a grouped SLO counted in its overflow instance (group labels __overflow__) because the SLO reached its group_by_limit."
	case MetricWindowEvents:
		return "Events this agent counted in the window ending at the sample's time (exact; add them across agents)."
	case MetricWindowBadEvents:
		return "Bad events this agent counted in the window ending at the sample's time (exact; add them across agents)."
	}
	return ""
}
