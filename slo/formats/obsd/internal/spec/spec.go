// Package spec is the obsd/v1 file as written in YAML, decoded strictly
// by the obsd reader. It is named spec, and its types keep their
// unexported names, because YAML decode errors name them to users
// ("field colour not found in type spec.rawSLO") as they did before the
// readers moved out of slo/spec; the reader uses them through the
// exported aliases below. The format's reference is slo/README.md.
package spec

import (
	model "github.com/obsd-dev/obsd/slo/spec"
)

// The types by the names the reader uses.
type (
	File      = rawFile
	SLO       = rawSLO
	SLI       = rawSLI
	Metric    = rawMetric
	Latency   = rawLatency
	Spans     = rawSpans
	SpanBad   = rawSpanBad
	Alerting  = rawAlerting
	Severity  = rawSeverity
	Window    = rawWindow
	Calendar  = rawCalendar
	Budgeting = rawBudgeting
	Logs      = rawLogs
)

// rawFile is obsd's own format as written in YAML.
type rawFile struct {
	Version string   `yaml:"version"`
	SLOs    []rawSLO `yaml:"slos"`
}

type rawSLO struct {
	Name        string            `yaml:"name"`
	Service     string            `yaml:"service"`
	Description string            `yaml:"description"`
	Objective   float64           `yaml:"objective"` // percent, e.g. 99.9
	Period      model.Duration    `yaml:"period"`
	Calendar    *rawCalendar      `yaml:"calendar"`
	Budgeting   *rawBudgeting     `yaml:"budgeting"`
	Labels      map[string]string `yaml:"labels"`
	SLI         rawSLI            `yaml:"sli"`
	// GroupByLimit caps a grouped SLO's instances; 0 means the default.
	GroupByLimit int         `yaml:"group_by_limit"`
	Alerting     rawAlerting `yaml:"alerting"`
}

type rawSLI struct {
	Metric *rawMetric `yaml:"metric"`
	Spans  *rawSpans  `yaml:"spans"`
	Logs   *rawLogs   `yaml:"logs"`
}

type rawMetric struct {
	Bad     string      `yaml:"bad"`
	Total   string      `yaml:"total"`
	Latency *rawLatency `yaml:"latency"`
	GroupBy []string    `yaml:"group_by"`
}

type rawLatency struct {
	Histogram string  `yaml:"histogram"`
	Threshold float64 `yaml:"threshold"`
}

type rawSpans struct {
	Service string     `yaml:"service"`
	Name    string     `yaml:"name"`
	Route   string     `yaml:"route"`
	Bad     rawSpanBad `yaml:"bad"`
}

type rawSpanBad struct {
	StatusError  bool           `yaml:"status_error"`
	HTTP5xx      bool           `yaml:"http_5xx"`
	DurationOver model.Duration `yaml:"duration_over"`
}

type rawAlerting struct {
	Name        string            `yaml:"name"`
	Page        rawSeverity       `yaml:"page"`
	Ticket      rawSeverity       `yaml:"ticket"`
	RunbookURL  string            `yaml:"runbook_url"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	MinEvents   *float64          `yaml:"min_events"`
}

type rawSeverity struct {
	Enabled     *bool             `yaml:"enabled"`
	For         model.Duration    `yaml:"for"`
	Windows     []rawWindow       `yaml:"windows"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type rawWindow struct {
	Long     model.Duration `yaml:"long"`
	Short    model.Duration `yaml:"short"`
	BurnRate float64        `yaml:"burn_rate"`
	// For is this pair's own pending time (default: the severity's for).
	For model.Duration `yaml:"for"`
}

// rawCalendar is 'calendar: {unit: month, time_zone: Europe/Berlin}'.
type rawCalendar struct {
	Unit     string `yaml:"unit"`
	TimeZone string `yaml:"time_zone"`
	Start    string `yaml:"start"`
}

// rawBudgeting is 'budgeting: {method: timeslices, slice_target: 95, slice_window: 5m}'.
type rawBudgeting struct {
	Method      string         `yaml:"method"`
	SliceTarget float64        `yaml:"slice_target"` // percent
	SliceWindow model.Duration `yaml:"slice_window"`
}

// rawLogs is sli.logs in obsd's format.
type rawLogs struct {
	Service     string   `yaml:"service"`
	Total       string   `yaml:"total"`
	Bad         string   `yaml:"bad"`
	MinSeverity string   `yaml:"min_severity"`
	GroupBy     []string `yaml:"group_by"`
}
