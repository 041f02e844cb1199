package obsd

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"
	yaml "go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/slo/spec"
)

// The obsd/v1 file as Write writes it: the keys of the reader's format,
// empty ones left out.
type (
	outFile struct {
		Version string   `yaml:"version"`
		SLOs    []outSLO `yaml:"slos"`
	}
	outSLO struct {
		Name         string            `yaml:"name"`
		Service      string            `yaml:"service"`
		Description  string            `yaml:"description,omitempty"`
		Objective    float64           `yaml:"objective"`
		Period       string            `yaml:"period,omitempty"`
		Calendar     *outCalendar      `yaml:"calendar,omitempty"`
		Budgeting    *outBudgeting     `yaml:"budgeting,omitempty"`
		Labels       map[string]string `yaml:"labels,omitempty"`
		SLI          outSLI            `yaml:"sli"`
		GroupByLimit int               `yaml:"group_by_limit,omitempty"`
		Alerting     outAlerting       `yaml:"alerting"`
	}
	outCalendar struct {
		Unit     string `yaml:"unit"`
		TimeZone string `yaml:"time_zone,omitempty"`
		Start    string `yaml:"start,omitempty"`
	}
	outBudgeting struct {
		Method      string  `yaml:"method"`
		SliceTarget float64 `yaml:"slice_target,omitempty"`
		SliceWindow string  `yaml:"slice_window,omitempty"`
	}
	outSLI struct {
		Metric *outMetric `yaml:"metric"`
	}
	outMetric struct {
		Bad     string      `yaml:"bad,omitempty"`
		Total   string      `yaml:"total,omitempty"`
		Latency *outLatency `yaml:"latency,omitempty"`
		GroupBy []string    `yaml:"group_by,omitempty"`
	}
	outLatency struct {
		Histogram string  `yaml:"histogram"`
		Threshold float64 `yaml:"threshold"`
	}
	outAlerting struct {
		Name        string            `yaml:"name,omitempty"`
		RunbookURL  string            `yaml:"runbook_url,omitempty"`
		MinEvents   float64           `yaml:"min_events"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
		Page        outSeverity       `yaml:"page"`
		Ticket      outSeverity       `yaml:"ticket"`
	}
	outSeverity struct {
		Enabled     bool              `yaml:"enabled"`
		For         string            `yaml:"for,omitempty"`
		Windows     []outWindow       `yaml:"windows,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
	}
	outWindow struct {
		Long     string  `yaml:"long"`
		Short    string  `yaml:"short"`
		BurnRate float64 `yaml:"burn_rate"`
		For      string  `yaml:"for,omitempty"`
	}
)

// Write writes SLOs as one obsd/v1 file that Parse reads back into the
// same model: alert windows are written out, so windows and burn rates
// of the source format (e.g. Pyrra's) are kept. SLOs it cannot write
// (export-only ones, span and log SLIs whose source form is not kept)
// are refused, each with its reason.
func Write(slos []*spec.SLO) ([]byte, error) {
	f := outFile{Version: Version}
	var errList []error
	for _, s := range slos {
		o, err := writeSLO(s)
		if err != nil {
			errList = append(errList, fmt.Errorf("%s: slo %q: %w", s.Source, s.Name, err))
			continue
		}
		f.SLOs = append(f.SLOs, o)
	}
	if err := errors.Join(errList...); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeSLO(s *spec.SLO) (outSLO, error) {
	if why := s.ExportOnly(); why != "" {
		return outSLO{}, errors.New(why + "; obsd/v1 has no field for it")
	}
	o := outSLO{Name: s.Name, Service: s.Service, Description: s.Description, Objective: round(s.Objective * 100),
		Labels: s.Labels, Alerting: writeAlerting(s.Alerting)}
	if s.GroupByLimit != 0 && s.GroupByLimit != spec.DefaultGroupByLimit {
		o.GroupByLimit = s.GroupByLimit
	}
	if c := s.Calendar; c != nil {
		o.Calendar = &outCalendar{Unit: string(c.Unit)}
		loc := time.UTC
		if c.Location != nil && c.Location != time.UTC {
			o.Calendar.TimeZone, loc = c.Location.String(), c.Location
		}
		if !c.Start.IsZero() {
			o.Calendar.Start = c.Start.In(loc).Format(StartLayout)
		}
	} else {
		o.Period = dur(s.Period)
	}
	if b := s.Budgeting; b.Method != spec.Occurrences {
		o.Budgeting = &outBudgeting{Method: string(b.Method), SliceTarget: round(b.SliceTarget * 100), SliceWindow: dur(b.SliceWindow)}
	}
	switch {
	case s.SLI.Metric != nil:
		m := s.SLI.Metric
		o.SLI.Metric = &outMetric{Bad: spec.SelectorText(m.Bad.MetricName, m.Bad.Matchers),
			Total: spec.SelectorText(m.Total.MetricName, m.Total.Matchers), GroupBy: m.GroupBy}
	case s.SLI.Latency != nil:
		l := s.SLI.Latency
		o.SLI.Metric = &outMetric{Latency: &outLatency{Histogram: spec.SelectorText(l.Histogram.MetricName, l.Histogram.Matchers),
			Threshold: l.Threshold}, GroupBy: l.GroupBy}
	default:
		return outSLO{}, errors.New("only metric SLIs are converted (span and log SLIs are obsd's own: the file already is obsd/v1)")
	}
	return o, nil
}

func writeAlerting(a spec.Alerting) outAlerting {
	sev := func(s spec.Severity) outSeverity {
		o := outSeverity{Enabled: s.Enabled, Labels: s.Labels, Annotations: s.Annotations}
		if s.For > 0 {
			o.For = dur(s.For)
		}
		for _, w := range s.Windows {
			ow := outWindow{Long: dur(w.Long), Short: dur(w.Short), BurnRate: round(w.Factor)}
			if w.For > 0 {
				ow.For = dur(w.For)
			}
			o.Windows = append(o.Windows, ow)
		}
		return o
	}
	return outAlerting{Name: a.Name, RunbookURL: a.RunbookURL, MinEvents: a.MinEvents, Labels: a.Labels,
		Annotations: a.Annotations, Page: sev(a.Page), Ticket: sev(a.Ticket)}
}

func dur(d time.Duration) string { return model.Duration(d).String() }

// round drops float noise (99.89999999999999 → 99.9).
func round(v float64) float64 { return math.Round(v*1e9) / 1e9 }
