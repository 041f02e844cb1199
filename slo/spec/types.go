// Package spec is the SLO model: one validated, normalised SLO (its SLI
// kinds, periods and calendars, budgeting, durations, window pairs and
// severities) whatever file format it came from, plus the validation
// helpers the format readers share (a problem collector that names file,
// SLO and field; objective, label, period and selector checks; the file
// limits). The readers live in slo/formats (one package per format);
// evaluating an SLI against telemetry is slo/match.
package spec

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/obsd-dev/obsd/slo/contract"
)

// SLO is one validated service level objective, whatever file format it
// came from. The engine treats it as read-only.
type SLO struct {
	// Name is unique across all loaded files.
	Name string
	// Service is the service the SLO belongs to.
	Service string
	// Description is free text.
	Description string
	// Objective is the target good-event ratio in (0, 1), e.g. 0.999.
	Objective float64
	// Period is the rolling compliance period (e.g. 30d). For a calendar
	// period it is the longest length of one calendar period (e.g. 31d for
	// a month) and is used to size windows and scale burn-rate factors.
	Period time.Duration
	// Calendar, when set, makes the compliance period a calendar period:
	// the error budget resets at each calendar boundary in its time zone,
	// and budget remaining is reported for the current calendar period.
	Calendar *CalendarPeriod
	// Budgeting says how the error budget is counted; the zero value is
	// occurrences (every event counts).
	Budgeting Budgeting
	// GroupByLimit caps the number of instances one grouped SLO keeps
	// (default DefaultGroupByLimit); events of further value sets are
	// counted in a single overflow instance.
	GroupByLimit int
	// Labels are the SLO's own labels (e.g. team), copied onto every
	// metric and alert of the SLO.
	Labels map[string]string
	// SLI says which events are counted and which of them are bad.
	SLI SLI
	// Alerting configures the multi-window multi-burn-rate alerts.
	Alerting Alerting
	// Source is the file the SLO was read from.
	Source string
}

// CalendarUnit is the length of one calendar period.
type CalendarUnit string

// Calendar units.
const (
	CalendarWeek    CalendarUnit = "week"    // starts Monday 00:00
	CalendarMonth   CalendarUnit = "month"   // starts on the 1st 00:00
	CalendarQuarter CalendarUnit = "quarter" // starts Jan/Apr/Jul/Oct 1st 00:00
)

// CalendarPeriod is a calendar compliance period in a time zone.
type CalendarPeriod struct {
	Unit     CalendarUnit
	Location *time.Location
	// Start, when set, anchors the periods (OpenSLO's calendar startTime):
	// they start at Start plus whole weeks, months or quarters, at its
	// local time of day (a month anchored on the 31st starts on the last
	// day of shorter months). Zero means the unit's natural boundaries.
	Start time.Time
}

// BudgetingMethod names how an error budget is counted (OpenSLO's
// budgetingMethod).
type BudgetingMethod string

// Budgeting methods.
const (
	// Occurrences: every event counts; the SLI is good events / events.
	Occurrences BudgetingMethod = ""
	// Timeslices: the period is cut into slices of SliceWindow; a slice is
	// good when its good-event ratio reaches SliceTarget; the SLI is good
	// slices / slices with events.
	Timeslices BudgetingMethod = "timeslices"
	// RatioTimeslices: the SLI is the mean of the per-slice ratios.
	RatioTimeslices BudgetingMethod = "ratio_timeslices"
)

// Budgeting configures the budgeting method.
type Budgeting struct {
	Method      BudgetingMethod
	SliceTarget float64       // Timeslices: in (0, 1]
	SliceWindow time.Duration // Timeslices, RatioTimeslices: e.g. 1m or 5m
}

// DefaultGroupByLimit is the default cap of instances per grouped SLO.
const DefaultGroupByLimit = 1000

// DefaultPeriod is the rolling period of an SLO that declares none.
const DefaultPeriod = 30 * 24 * time.Hour

// DefaultMinEvents is the default per-window minimum event count.
const DefaultMinEvents = 10

// SLI is exactly one of Metric, Latency, Spans, Logs or PromQL.
type SLI struct {
	Metric  *MetricRatio
	Latency *MetricLatency
	Spans   *SpanSLI
	Logs    *LogSLI
	// PromQL is export-only: Prometheus computes it from the rules `obsd
	// slo rules` writes; the engine cannot evaluate it (see ExportOnly).
	PromQL *PromQLRatio
}

// PromQLRatio is an error ratio that only Prometheus can compute: a PromQL
// expression with the {{.window}} placeholder (Sloth's
// sli.raw.error_ratio_query), or one a format's reader writes for a
// plugin or indicator whose query has no exact in-process equivalent.
type PromQLRatio struct {
	// ErrorRatio is the PromQL of the error ratio over {{.window}}.
	ErrorRatio string
	// Field is the file's field the expression comes from (e.g.
	// "sli.raw.error_ratio_query"), for messages.
	Field string
	// Reason says why obsd cannot evaluate it in-process.
	Reason string
}

// ExportOnly returns why an SLO cannot be evaluated by the engine (its
// rules can only be exported), or "" when it can.
func (s *SLO) ExportOnly() string {
	if p := s.SLI.PromQL; p != nil {
		return fmt.Sprintf("'%s' can only be exported as Prometheus rules (obsd slo rules), not evaluated in-process: %s", p.Field, p.Reason)
	}
	return ""
}

// MetricRatio counts events from monotonic sums (delta or cumulative):
// every increase of a series matching Total is an event, every increase
// of a series matching Bad is a bad event. A series may match both.
type MetricRatio struct {
	Bad   Selector
	Total Selector
	// GroupBy splits the SLO into one instance per distinct value set of
	// these attributes (Sloth's "sum by (...)"); empty means one instance.
	GroupBy []string
}

// MetricLatency counts events from a histogram: every observation is an
// event, an observation above Threshold is bad. For explicit-bucket
// histograms Threshold must be one of the bucket boundaries. Prometheus
// style series (Histogram.Name + "_bucket" with "le", "_count") are also
// accepted.
type MetricLatency struct {
	Histogram Selector
	Threshold float64
	GroupBy   []string
}

// SpanSLI counts server/consumer spans of a service; a span is bad when
// any of the enabled Bad conditions holds.
type SpanSLI struct {
	// Service is the span's service.name; defaults to the SLO's service.
	Service string
	// Name, when set, is a fully anchored regular expression on the span name.
	Name *regexp.Regexp
	// Route, when set, is a fully anchored regular expression on the
	// http.route attribute.
	Route *regexp.Regexp
	// StatusError counts spans with status code Error as bad.
	StatusError bool
	// HTTP5xx counts spans whose HTTP response status code is 500-599 as bad.
	HTTP5xx bool
	// DurationOver counts spans longer than this as bad; 0 disables.
	DurationOver time.Duration
	// AnyService makes the SLI count the spans of every service but those
	// in ExceptServices, in one instance per service: the resource's
	// service.name is the instance's group label LabelService ("service")
	// and its service. Service is then empty. The slo connector's
	// 'discover' builds such SLOs; no SLO file format declares one, so the
	// model's JSON (the readers' golden files) leaves the two fields out
	// while unset.
	AnyService bool `json:",omitempty"`
	// ExceptServices are the services an AnyService SLI does not count:
	// those that have SLOs of their own.
	ExceptServices []string `json:",omitempty"`
}

// Selector selects series by metric name and Prometheus-style matchers
// (=, !=, =~, !~ with fully anchored regular expressions).
type Selector struct {
	// Text is the selector as written, e.g. `http_requests_total{code=~"5.."}`.
	Text string
	// MetricName is the value of the __name__ equality matcher.
	MetricName string
	// Matchers are the attribute matchers, without the name matcher.
	Matchers []*labels.Matcher
}

// SelectorText writes a selector in PromQL: name{m1, m2}, matchers in
// the order given, or just name without matchers.
func SelectorText(name string, ms []*labels.Matcher) string {
	if len(ms) == 0 {
		return name
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}

// HasMatcher reports whether ms holds a matcher written as m (same name,
// type and value).
func HasMatcher(ms []*labels.Matcher, m *labels.Matcher) bool {
	for _, x := range ms {
		if x.String() == m.String() {
			return true
		}
	}
	return false
}

// SameMatchers reports whether a and b hold the same matchers, in any order.
func SameMatchers(a, b []*labels.Matcher) bool {
	if len(a) != len(b) {
		return false
	}
	for _, m := range a {
		if !HasMatcher(b, m) {
			return false
		}
	}
	return true
}

// Alerting configures the alerts of one SLO.
type Alerting struct {
	// Name is the alert name; defaults to the SLO name.
	Name string
	// Page and Ticket are the two severities.
	Page, Ticket Severity
	// RunbookURL is copied into the "runbook_url" annotation.
	RunbookURL string
	// Labels are added to the alerts (on top of the SLO labels).
	Labels map[string]string
	// Annotations are passed to the alerting package as template sources.
	Annotations map[string]string
	// MinEvents is the minimum number of events a window needs before
	// its burn rate may trigger an alert (default 10). An export-only SLI
	// (SLI.PromQL) has no event count: its rules ignore it.
	MinEvents float64
}

// NamedSeverity is one of an SLO's severities with its name as alerts
// carry it (contract.SeverityPage, contract.SeverityTicket).
type NamedSeverity struct {
	Name string
	Severity
}

// Severities are the two severities, page then ticket (the order of
// contract.Severities), enabled or not.
func (a Alerting) Severities() [2]NamedSeverity {
	return [2]NamedSeverity{{contract.SeverityPage, a.Page}, {contract.SeverityTicket, a.Ticket}}
}

// Severity is one alert severity with its window pairs.
type Severity struct {
	Enabled bool
	// Windows are the (long, short, burn-rate factor) pairs; the alert
	// condition holds when any pair holds.
	Windows []WindowPair
	// For is how long a pair's condition must hold before pending becomes
	// firing, for the pairs without a For of their own.
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
}

// PairFor is how long pair i must hold before the severity fires: the
// pair's own For when set, else the severity's.
func (s Severity) PairFor(i int) time.Duration {
	if f := s.Windows[i].For; f > 0 {
		return f
	}
	return s.For
}

// WindowPair is one multi-window condition: both windows' burn rates must
// reach Factor.
type WindowPair struct {
	Long, Short time.Duration
	Factor      float64
	// For, when set, is this pair's own pending time (Pyrra's windows and
	// OpenSLO conditions carry one each); 0 uses the severity's For.
	For time.Duration
}

// DefaultWindowPairs returns the SRE Workbook defaults for a 30 day period
// (page 2% of budget in 1h and 5% in 6h; ticket 10% in 1d and 10% in 3d)
// with their factors scaled to period: factor = budget% × period / long
// window. Pairs whose long window exceeds the period are dropped.
func DefaultWindowPairs(period time.Duration) (page, ticket []WindowPair) {
	mk := func(pct float64, long, short time.Duration) []WindowPair {
		if long > period {
			return nil
		}
		return []WindowPair{{Long: long, Short: short, Factor: pct * float64(period) / float64(long)}}
	}
	page = append(mk(0.02, time.Hour, 5*time.Minute), mk(0.05, 6*time.Hour, 30*time.Minute)...)
	ticket = append(mk(0.10, 24*time.Hour, 2*time.Hour), mk(0.10, 72*time.Hour, 6*time.Hour)...)
	return page, ticket
}
