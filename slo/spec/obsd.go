package spec

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// VersionObsd is the version key of obsd's own format.
const VersionObsd = "obsd/v1"

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
	Period      Duration          `yaml:"period"`
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
	StatusError  bool     `yaml:"status_error"`
	HTTP5xx      bool     `yaml:"http_5xx"`
	DurationOver Duration `yaml:"duration_over"`
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
	For         Duration          `yaml:"for"`
	Windows     []rawWindow       `yaml:"windows"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type rawWindow struct {
	Long     Duration `yaml:"long"`
	Short    Duration `yaml:"short"`
	BurnRate float64  `yaml:"burn_rate"`
}

// DefaultPeriod is used when an SLO declares no period.
const DefaultPeriod = 30 * 24 * time.Hour

// DefaultMinEvents is the default per-window minimum event count.
const DefaultMinEvents = 10

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)

// errs collects validation errors that all carry file, SLO and field.
type errs struct {
	file, slo string
	list      []error
}

func (e *errs) addf(field, format string, args ...any) {
	e.list = append(e.list, fmt.Errorf("%s: slo %q: '%s' %s", e.file, e.slo, field, fmt.Sprintf(format, args...)))
}

func (e *errs) err() error { return errors.Join(e.list...) }

// convertObsd validates one SLO of obsd's own format.
func convertObsd(file string, r rawSLO, e *errs) *SLO {
	e.slo = r.Name
	s := &SLO{Name: r.Name, Service: r.Service, Description: r.Description, Labels: r.Labels, Source: file}
	checkCommon(r.Name, r.Service, r.Objective, e)
	s.Objective = percentToRatio(r.Objective)
	convertPeriod(r.Period, r.Calendar, s, e)
	convertBudgeting(r.Budgeting, s, e)
	n := 0
	if r.SLI.Metric != nil {
		n++
		convertMetric(*r.SLI.Metric, s, e)
	}
	if r.SLI.Spans != nil {
		n++
		s.SLI.Spans = convertSpans(*r.SLI.Spans, r.Service, e)
	}
	if r.SLI.Logs != nil {
		n++
		s.SLI.Logs = convertLogs(*r.SLI.Logs, r.Service, e)
	}
	if n != 1 {
		e.addf("sli", "must have exactly one of 'metric', 'spans' or 'logs', got %d", n)
	}
	s.GroupByLimit = groupByLimit(r.GroupByLimit, e)
	checkLabels(r.Labels, "labels", e)
	s.Alerting = convertAlerting(r.Alerting, r.Name, s.Period, e)
	return s
}

// percentToRatio turns 99.9 into 0.999 without the float noise of a
// plain division (99.9/100 = 0.9990000000000001).
func percentToRatio(p float64) float64 { return math.Round(p*1e9) / 1e11 }

var labelRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func checkLabels(m map[string]string, field string, e *errs) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !labelRe.MatchString(k) {
			e.addf(field, "has an invalid label name %q (want %s)", k, labelRe)
		}
	}
}

func checkCommon(name, service string, objective float64, e *errs) {
	if name == "" {
		e.addf("name", "is required")
	} else if !nameRe.MatchString(name) {
		e.addf("name", "must match %s", nameRe)
	}
	if service == "" {
		e.addf("service", "is required")
	}
	if !(objective > 0 && objective < 100) {
		e.addf("objective", "must be a percentage strictly between 0 and 100, got %v", objective)
	}
}

func convertMetric(m rawMetric, s *SLO, e *errs) {
	if m.Latency != nil {
		if m.Bad != "" || m.Total != "" {
			e.addf("sli.metric", "must have either 'bad' and 'total' or 'latency', not both")
		}
		sel := parseSelector(m.Latency.Histogram, "sli.metric.latency.histogram", e)
		if !(m.Latency.Threshold > 0) {
			e.addf("sli.metric.latency.threshold", "must be greater than zero")
		}
		s.SLI.Latency = &MetricLatency{Histogram: sel, Threshold: m.Latency.Threshold, GroupBy: m.GroupBy}
		return
	}
	bad := parseSelector(m.Bad, "sli.metric.bad", e)
	total := parseSelector(m.Total, "sli.metric.total", e)
	s.SLI.Metric = &MetricRatio{Bad: bad, Total: total, GroupBy: m.GroupBy}
}

// parseSelector parses a PromQL series selector with Prometheus' parser.
func parseSelector(text, field string, e *errs) Selector {
	if text == "" {
		e.addf(field, "is required")
		return Selector{}
	}
	ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector(text)
	if err != nil {
		e.addf(field, "is not a valid series selector: %v", err)
		return Selector{}
	}
	return selectorFrom(text, ms, field, e)
}

func selectorFrom(text string, ms []*labels.Matcher, field string, e *errs) Selector {
	sel := Selector{Text: text}
	for _, m := range ms {
		if m.Name == labels.MetricName {
			if m.Type != labels.MatchEqual {
				e.addf(field, "must name its metric with an equality matcher")
				continue
			}
			sel.MetricName = m.Value
			continue
		}
		sel.Matchers = append(sel.Matchers, m)
	}
	if sel.MetricName == "" {
		e.addf(field, "must name a metric")
	}
	return sel
}

func convertSpans(r rawSpans, service string, e *errs) *SpanSLI {
	s := &SpanSLI{Service: r.Service, StatusError: r.Bad.StatusError, HTTP5xx: r.Bad.HTTP5xx, DurationOver: time.Duration(r.Bad.DurationOver)}
	if s.Service == "" {
		s.Service = service
	}
	s.Name = anchored(r.Name, "sli.spans.name", e)
	s.Route = anchored(r.Route, "sli.spans.route", e)
	if !s.StatusError && !s.HTTP5xx && s.DurationOver <= 0 {
		e.addf("sli.spans.bad", "must enable at least one of 'status_error', 'http_5xx', 'duration_over'")
	}
	return s
}

func anchored(expr, field string, e *errs) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		e.addf(field, "is not a valid regular expression: %v", err)
		return nil
	}
	return re
}

func convertAlerting(r rawAlerting, name string, period time.Duration, e *errs) Alerting {
	a := Alerting{Name: r.Name, RunbookURL: r.RunbookURL, Labels: r.Labels, Annotations: r.Annotations, MinEvents: DefaultMinEvents}
	if a.Name == "" {
		a.Name = name
	}
	if r.MinEvents != nil {
		if *r.MinEvents < 0 {
			e.addf("alerting.min_events", "must not be negative")
		}
		a.MinEvents = *r.MinEvents
	}
	page, ticket := DefaultWindowPairs(period)
	checkLabels(r.Labels, "alerting.labels", e)
	a.Page = convertSeverity(r.Page, page, period, "alerting.page", e)
	a.Ticket = convertSeverity(r.Ticket, ticket, period, "alerting.ticket", e)
	return a
}

func convertSeverity(r rawSeverity, defaults []WindowPair, period time.Duration, field string, e *errs) Severity {
	s := Severity{Enabled: r.Enabled == nil || *r.Enabled, For: time.Duration(r.For), Labels: r.Labels, Annotations: r.Annotations, Windows: defaults}
	if s.For < 0 {
		e.addf(field+".for", "must not be negative")
	}
	if len(r.Windows) > 0 {
		s.Windows = nil
		for i, w := range r.Windows {
			f := fmt.Sprintf("%s.windows[%d]", field, i)
			wp := WindowPair{Long: time.Duration(w.Long), Short: time.Duration(w.Short), Factor: w.BurnRate}
			if wp.Short < time.Minute || wp.Long <= wp.Short {
				e.addf(f, "needs 1m <= 'short' < 'long', got short %s long %s", wp.Short, wp.Long)
			}
			if wp.Long > period {
				e.addf(f+".long", "must not exceed the period %s", period)
			}
			if !(wp.Factor > 0) {
				e.addf(f+".burn_rate", "must be greater than zero")
			}
			s.Windows = append(s.Windows, wp)
		}
	}
	sort.SliceStable(s.Windows, func(i, j int) bool { return s.Windows[i].Long < s.Windows[j].Long })
	return s
}
