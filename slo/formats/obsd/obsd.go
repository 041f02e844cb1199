// Package obsd reads obsd's own SLO file format ("version: obsd/v1"):
// every SLO kind (metric ratio, histogram latency, spans, logs), rolling
// and calendar periods, budgeting methods and alerting overrides, into
// the model of slo/spec.
package obsd

import (
	"fmt"
	"sort"
	"time"

	raw "github.com/obsd-dev/obsd/slo/formats/obsd/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Version is the version key of obsd's own format.
const Version = "obsd/v1"

// Parse decodes and validates one obsd/v1 file's content; file names it
// in errors. Unknown keys are errors, and every problem is reported at
// once (errors.Join), each with the file, SLO name and YAML field. Names
// must be unique within the file.
func Parse(file string, data []byte) ([]*spec.SLO, error) {
	var f raw.File
	if err := spec.DecodeFile(file, data, &f); err != nil {
		return nil, err
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%s: 'version' must be %q, got %q", file, Version, f.Version)
	}
	e := &spec.Problems{File: file}
	var out []*spec.SLO
	for _, r := range f.SLOs {
		out = append(out, convertSLO(file, r, e))
	}
	return e.SLOs(out)
}

// convertSLO validates one SLO.
func convertSLO(file string, r raw.SLO, e *spec.Problems) *spec.SLO {
	e.SLO = r.Name
	s := &spec.SLO{Name: r.Name, Service: r.Service, Description: r.Description, Labels: r.Labels, Source: file}
	spec.CheckCommon(r.Name, r.Service, r.Objective, e)
	s.Objective = spec.PercentToRatio(r.Objective)
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
		e.Addf("sli", "must have exactly one of 'metric', 'spans' or 'logs', got %d", n)
	}
	s.GroupByLimit = groupByLimit(r.GroupByLimit, e)
	spec.CheckLabels(r.Labels, "labels", e)
	s.Alerting = convertAlerting(r.Alerting, r.Name, s.Period, e)
	return s
}

func convertAlerting(r raw.Alerting, name string, period time.Duration, e *spec.Problems) spec.Alerting {
	a := spec.Alerting{Name: r.Name, RunbookURL: r.RunbookURL, Labels: r.Labels, Annotations: r.Annotations, MinEvents: spec.DefaultMinEvents}
	if a.Name == "" {
		a.Name = name
	}
	if r.MinEvents != nil {
		if *r.MinEvents < 0 {
			e.Addf("alerting.min_events", "must not be negative")
		}
		a.MinEvents = *r.MinEvents
	}
	page, ticket := spec.DefaultWindowPairs(period)
	spec.CheckLabels(r.Labels, "alerting.labels", e)
	a.Page = convertSeverity(r.Page, page, period, "alerting.page", e)
	a.Ticket = convertSeverity(r.Ticket, ticket, period, "alerting.ticket", e)
	return a
}

func convertSeverity(r raw.Severity, defaults []spec.WindowPair, period time.Duration, field string, e *spec.Problems) spec.Severity {
	s := spec.Severity{Enabled: r.Enabled == nil || *r.Enabled, For: time.Duration(r.For), Labels: r.Labels, Annotations: r.Annotations, Windows: defaults}
	if s.For < 0 {
		e.Addf(field+".for", "must not be negative")
	}
	if len(r.Windows) > 0 {
		s.Windows = nil
		for i, w := range r.Windows {
			f := fmt.Sprintf("%s.windows[%d]", field, i)
			wp := spec.WindowPair{Long: time.Duration(w.Long), Short: time.Duration(w.Short), Factor: w.BurnRate, For: time.Duration(w.For)}
			if wp.For < 0 {
				e.Addf(f+".for", "must not be negative")
			}
			if wp.Short < time.Minute || wp.Long <= wp.Short {
				e.Addf(f, "needs 1m <= 'short' < 'long', got short %s long %s", wp.Short, wp.Long)
			}
			if wp.Long > period {
				e.Addf(f+".long", "must not exceed the period %s", period)
			}
			if !(wp.Factor > 0) {
				e.Addf(f+".burn_rate", "must be greater than zero")
			}
			s.Windows = append(s.Windows, wp)
		}
	}
	sort.SliceStable(s.Windows, func(i, j int) bool { return s.Windows[i].Long < s.Windows[j].Long })
	return s
}
