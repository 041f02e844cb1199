package obsd

import (
	"fmt"
	"regexp"
	"time"

	raw "github.com/obsd-dev/obsd/slo/formats/obsd/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

func convertMetric(m raw.Metric, s *spec.SLO, e *spec.Problems) {
	if m.Latency != nil {
		if m.Bad != "" || m.Total != "" {
			e.Addf("sli.metric", "must have either 'bad' and 'total' or 'latency', not both")
		}
		sel := spec.ParseSelector(m.Latency.Histogram, "sli.metric.latency.histogram", e)
		if !(m.Latency.Threshold > 0) {
			e.Addf("sli.metric.latency.threshold", "must be greater than zero")
		}
		s.SLI.Latency = &spec.MetricLatency{Histogram: sel, Threshold: m.Latency.Threshold, GroupBy: m.GroupBy}
		return
	}
	bad := spec.ParseSelector(m.Bad, "sli.metric.bad", e)
	total := spec.ParseSelector(m.Total, "sli.metric.total", e)
	s.SLI.Metric = &spec.MetricRatio{Bad: bad, Total: total, GroupBy: m.GroupBy}
}

func convertSpans(r raw.Spans, service string, e *spec.Problems) *spec.SpanSLI {
	s := &spec.SpanSLI{Service: r.Service, StatusError: r.Bad.StatusError, HTTP5xx: r.Bad.HTTP5xx, DurationOver: time.Duration(r.Bad.DurationOver)}
	if s.Service == "" {
		s.Service = service
	}
	s.Name = anchored(r.Name, "sli.spans.name", e)
	s.Route = anchored(r.Route, "sli.spans.route", e)
	if !s.StatusError && !s.HTTP5xx && s.DurationOver <= 0 {
		e.Addf("sli.spans.bad", "must enable at least one of 'status_error', 'http_5xx', 'duration_over'")
	}
	return s
}

func anchored(expr, field string, e *spec.Problems) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		e.Addf(field, "is not a valid regular expression: %v", err)
		return nil
	}
	return re
}

func convertLogs(r raw.Logs, service string, e *spec.Problems) *spec.LogSLI {
	l := &spec.LogSLI{Service: r.Service}
	if l.Service == "" {
		l.Service = service
	}
	var err error
	if l.Total, err = spec.ParseLogSelector(r.Total); err != nil {
		e.Addf("sli.logs.total", "is not a valid log selector: %v", err)
	}
	if l.Bad, err = spec.ParseLogSelector(r.Bad); err != nil {
		e.Addf("sli.logs.bad", "is not a valid log selector: %v", err)
	}
	if r.MinSeverity != "" {
		if l.MinSeverity, err = spec.ParseSeverity(r.MinSeverity); err != nil {
			e.Addf("sli.logs.min_severity", "%v", err)
		}
	}
	if len(l.Bad.Matchers) == 0 && r.MinSeverity == "" {
		e.Addf("sli.logs", "must set 'bad' (a non-empty selector) or 'min_severity'")
	}
	for i, g := range r.GroupBy {
		f, err := spec.ParseLogField(g)
		if err != nil {
			e.Addf(fmt.Sprintf("sli.logs.group_by[%d]", i), "%v", err)
			continue
		}
		l.GroupBy = append(l.GroupBy, f)
	}
	return l
}

// groupByLimit validates group_by_limit: 0 means DefaultGroupByLimit.
func groupByLimit(n int, e *spec.Problems) int {
	switch {
	case n == 0:
		return spec.DefaultGroupByLimit
	case n < 1:
		e.Addf("group_by_limit", "must be at least 1 (0 or absent: %d), got %d", spec.DefaultGroupByLimit, n)
	}
	return n
}
