package openslo

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	raw "github.com/obsd-dev/obsd/slo/formats/openslo/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// oslConv converts one document; every problem goes to errs with the
// document and field path it belongs to.
type oslConv struct {
	set  *Set
	errs []error
}

func (c *oslConv) addf(d *oslDoc, path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: '%s' %s", d.where(), path, fmt.Sprintf(format, args...)))
}

// convertSLO maps one SLO document onto the model.
func (c *oslConv) convertSLO(d *oslDoc, r *raw.SLODoc) *spec.SLO {
	s := &spec.SLO{Name: r.Metadata.Name, Service: r.Spec.Service, Description: r.Spec.Description, Source: d.file}
	if s.Description == "" {
		s.Description = r.Metadata.DisplayName
	}
	if s.Service == "" {
		c.addf(d, "spec.service", "is required")
	}
	s.Labels = c.labels(d, "metadata.labels", r.Metadata.Labels)
	c.timeWindow(d, r.Spec.TimeWindow, s)
	ind := c.sliOf(d, r)
	obj := c.objective(d, r.Spec.Objectives, ind, s)
	c.budgeting(d, r.Spec.BudgetingMethod, obj, s)
	if ind != nil {
		c.applyIndicator(d, ind, obj, s)
	}
	s.Alerting = c.alerting(d, r, s.Period)
	return s
}

// labels maps OpenSLO metadata labels onto labels. OpenSLO v1 allows a
// string or a list of strings per key; obsd labels are strings, so a
// list is joined with "," (["one", "two"] becomes "one,two").
func (c *oslConv) labels(d *oslDoc, path string, m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		if !spec.ValidLabelName(k) {
			c.addf(d, path, "has an invalid label name %q (want %s)", k, spec.LabelNameSyntax)
			continue
		}
		switch v := m[k].(type) {
		case string:
			out[k] = v
		case []any:
			parts := make([]string, len(v))
			ok := true
			for i, item := range v {
				s, isString := item.(string)
				if !isString {
					c.addf(d, fmt.Sprintf("%s.%s[%d]", path, k, i), "must be a string")
					ok = false
				}
				parts[i] = s
			}
			if ok {
				out[k] = strings.Join(parts, ",")
			}
		default:
			c.addf(d, path+"."+k, "must be a string or a list of strings")
		}
	}
	return out
}

var calendarUnits = map[string]struct {
	unit   spec.CalendarUnit
	period time.Duration
}{
	"1w": {spec.CalendarWeek, spec.WeekPeriod},
	"1M": {spec.CalendarMonth, spec.MonthPeriod},
	"1Q": {spec.CalendarQuarter, spec.QuarterPeriod},
}

// timeWindow maps spec.timeWindow onto Period and Calendar.
func (c *oslConv) timeWindow(d *oslDoc, tw []raw.TimeWindow, s *spec.SLO) {
	s.Period = spec.DefaultPeriod
	switch {
	case len(tw) == 0:
		return
	case len(tw) > 1:
		c.addf(d, "spec.timeWindow", "must have exactly one item, got %d", len(tw))
		return
	}
	w := tw[0]
	rolling := w.IsRolling != nil && *w.IsRolling
	if w.Calendar == nil && (w.IsRolling == nil || rolling) {
		if !rolling {
			c.addf(d, "spec.timeWindow[0].isRolling", "must be true for a window without 'calendar'")
		}
		p, err := oslDuration(w.Duration)
		switch {
		case err != nil:
			c.addf(d, "spec.timeWindow[0].duration", "%v", err)
		case p < spec.MinPeriod:
			c.addf(d, "spec.timeWindow[0].duration", "must be at least 1h, got %s", w.Duration)
		default:
			s.Period = p
		}
		return
	}
	if rolling {
		c.addf(d, "spec.timeWindow[0].isRolling", "must be false (or absent) with 'calendar'")
		return
	}
	if w.Calendar == nil {
		c.addf(d, "spec.timeWindow[0].calendar", "is required when 'isRolling' is false")
		return
	}
	u, ok := calendarUnits[w.Duration]
	if !ok {
		c.addf(d, "spec.timeWindow[0].duration", "must be 1w, 1M or 1Q for a calendar window, got %q%s", w.Duration, calendarAdvice(w.Duration))
		return
	}
	loc, err := time.LoadLocation(w.Calendar.TimeZone)
	if err != nil {
		c.addf(d, "spec.timeWindow[0].calendar.timeZone", "is not a known IANA time zone: %v", err)
		return
	}
	s.Period, s.Calendar = u.period, &spec.CalendarPeriod{Unit: u.unit, Location: loc}
	if w.Calendar.StartTime != "" {
		c.calendarStart(d, w.Calendar.StartTime, s.Calendar)
	}
}

// calendarStart anchors a calendar window at its startTime (any date and
// time, read in the window's time zone, as OpenSLO allows).
func (c *oslConv) calendarStart(d *oslDoc, start string, cal *spec.CalendarPeriod) {
	const path = "spec.timeWindow[0].calendar.startTime"
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02", time.RFC3339} {
		t, err := time.ParseInLocation(layout, strings.TrimSpace(start), cal.Location)
		if err == nil {
			cal.Start = t
			return
		}
	}
	c.addf(d, path, "must be a date and time like 2024-01-01 00:00:00, got %q", start)
}

var calendarShorthand = regexp.MustCompile(`^[0-9]+[MQY]$`)

// calendarAdvice says what to write for a calendar duration obsd's
// calendar periods cannot express (spec.CalendarPeriod is one week,
// month or quarter).
func calendarAdvice(duration string) string {
	const why = ": obsd's calendar periods are one week, month or quarter; "
	if calendarShorthand.MatchString(duration) {
		n, _ := strconv.Atoi(duration[:len(duration)-1])
		days := map[byte]float64{'M': 30.5, 'Q': 91.5, 'Y': 365}[duration[len(duration)-1]]
		return fmt.Sprintf("%sfor %s write days as a rolling window (e.g. %dd)", why, duration, int(float64(n)*days+0.5))
	}
	if _, err := oslDuration(duration); err == nil {
		return why + "for " + duration + " write a rolling window (isRolling: true, no calendar)"
	}
	return ""
}

// oslDuration parses OpenSLO's duration shorthand (m, h, d, w) and
// Prometheus durations; months, quarters and years are not durations.
func oslDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("is required")
	}
	if calendarShorthand.MatchString(s) {
		return 0, fmt.Errorf("%q is a calendar length (M, Q, Y): use it with 'calendar' and 'isRolling: false', or write days (e.g. 30d)", s)
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("is not a duration (e.g. 5m, 1h, 28d, 4w): %q", s)
	}
	return time.Duration(d), nil
}

// objective checks spec.objectives and sets Objective.
func (c *oslConv) objective(d *oslDoc, objs []raw.Objective, ind *oslIndicator, s *spec.SLO) *raw.Objective {
	if len(objs) != 1 {
		if len(objs) == 0 {
			c.addf(d, "spec.objectives", "must have one objective")
		} else {
			c.addf(d, "spec.objectives", "has %d objectives; obsd supports exactly one per SLO: write one SLO per objective", len(objs))
		}
		return nil
	}
	o := &objs[0]
	const p = "spec.objectives[0]"
	switch {
	case o.Target != nil && o.TargetPercent != nil:
		c.addf(d, p, "must have 'target' or 'targetPercent', not both")
	case o.Target != nil:
		if !(*o.Target > 0 && *o.Target < 1) {
			c.addf(d, p+".target", "must be strictly between 0 and 1, got %v", *o.Target)
		}
		s.Objective = spec.PercentToRatio(*o.Target * 100)
	case o.TargetPercent != nil:
		if !(*o.TargetPercent > 0 && *o.TargetPercent < 100) {
			c.addf(d, p+".targetPercent", "must be strictly between 0 and 100, got %v", *o.TargetPercent)
		}
		s.Objective = spec.PercentToRatio(*o.TargetPercent)
	default:
		c.addf(d, p, "must have 'target' or 'targetPercent'")
	}
	if ind != nil && ind.threshold == nil && ind.gauge == "" && (o.Op != "" || o.Value != nil) {
		c.addf(d, p, "'op' and 'value' apply only to a thresholdMetric SLI")
	}
	return o
}

// budgeting maps budgetingMethod and the time slice fields.
func (c *oslConv) budgeting(d *oslDoc, method string, o *raw.Objective, s *spec.SLO) {
	const p = "spec.objectives[0]"
	if o == nil {
		o = &raw.Objective{}
	}
	var window time.Duration
	if o.TimeSliceWindow != "" {
		var err error
		if n, convErr := strconv.Atoi(o.TimeSliceWindow); convErr == nil {
			window = time.Duration(n) * time.Minute // a bare number is minutes
		} else if window, err = oslDuration(o.TimeSliceWindow); err != nil {
			c.addf(d, p+".timeSliceWindow", "%v", err)
		}
	}
	switch method {
	case "", "Occurrences":
		if o.TimeSliceTarget != nil || o.TimeSliceWindow != "" {
			c.addf(d, p, "'timeSliceTarget' and 'timeSliceWindow' need budgetingMethod Timeslices or RatioTimeslices")
		}
		return
	case "Timeslices":
		s.Budgeting.Method = spec.Timeslices
		if o.TimeSliceTarget == nil || !(*o.TimeSliceTarget > 0 && *o.TimeSliceTarget <= 1) {
			c.addf(d, p+".timeSliceTarget", "must be in (0, 1] with budgetingMethod Timeslices")
		} else {
			s.Budgeting.SliceTarget = *o.TimeSliceTarget
		}
	case "RatioTimeslices":
		s.Budgeting.Method = spec.RatioTimeslices
		if o.TimeSliceTarget != nil {
			c.addf(d, p+".timeSliceTarget", "does not apply to budgetingMethod RatioTimeslices (the SLI is the mean of the slice ratios)")
		}
	default:
		c.addf(d, "spec.budgetingMethod", "must be Occurrences, Timeslices or RatioTimeslices, got %q", method)
		return
	}
	switch {
	case o.TimeSliceWindow == "":
		c.addf(d, p+".timeSliceWindow", "is required with budgetingMethod %s", method)
	case !spec.ValidSliceWindow(window):
		c.addf(d, p+".timeSliceWindow", "must be a whole number of minutes that divides 1h (1m, 2m, 5m, 10m, 15m, 30m, 1h), got %s", o.TimeSliceWindow)
	default:
		s.Budgeting.SliceWindow = window
	}
}

// sliOf returns the SLO's indicator, inline or referenced.
func (c *oslConv) sliOf(d *oslDoc, r *raw.SLODoc) *oslIndicator {
	switch {
	case r.Spec.Indicator != nil && r.Spec.IndicatorRef != "":
		c.addf(d, "spec", "must have 'indicator' or 'indicatorRef', not both")
	case r.Spec.Indicator != nil:
		in := r.Spec.Indicator
		if in.Kind != "" && in.Kind != kindSLI {
			c.addf(d, "spec.indicator.kind", "must be %q, got %q", kindSLI, in.Kind)
		}
		if in.APIVersion != "" && in.APIVersion != APIVersion {
			c.addf(d, "spec.indicator.apiVersion", "must be %q, got %q", APIVersion, in.APIVersion)
		}
		return c.indicator(d, "spec.indicator.spec", &in.Spec)
	case r.Spec.IndicatorRef != "":
		ref := c.set.ref(kindSLI, r.Spec.IndicatorRef)
		if ref == nil {
			c.addf(d, "spec.indicatorRef", "names no SLI document %q in the loaded files", r.Spec.IndicatorRef)
			return nil
		}
		return c.indicator(ref, "spec", &ref.value.(*raw.SLIDoc).Spec)
	default:
		c.addf(d, "spec", "must have 'indicator' or 'indicatorRef'")
	}
	return nil
}

// applyIndicator sets the SLI; a threshold metric needs the objective's
// op and value.
func (c *oslConv) applyIndicator(d *oslDoc, ind *oslIndicator, o *raw.Objective, s *spec.SLO) {
	switch {
	case ind.ratio != nil:
		s.SLI.Metric = ind.ratio
	case ind.latency != nil:
		s.SLI.Latency = ind.latency
	case ind.promql != nil:
		s.SLI.PromQL = ind.promql
	case ind.gauge != "" && o != nil:
		s.SLI.PromQL = c.gaugeRatio(d, ind.gauge, o)
	case ind.threshold != nil && o != nil:
		const p = "spec.objectives[0]"
		if o.Op != "lte" {
			c.addf(d, p+".op", "must be \"lte\" for a thresholdMetric: obsd counts an observation at most 'value' as good (histogram buckets are \"le\"), got %q", o.Op)
		}
		if o.Value == nil || !(*o.Value > 0) {
			c.addf(d, p+".value", "must be greater than zero: it is the latency threshold in the histogram's unit")
			return
		}
		s.SLI.Latency = &spec.MetricLatency{Histogram: *ind.threshold, Threshold: *o.Value}
	}
}

// oslInlineKind checks the optional kind and apiVersion of an inline
// object (an inline SLI, alert policy, condition or target).
func oslInlineKind(c *oslConv, d *oslDoc, path, want, kind, apiVersion string) {
	if kind != "" && kind != want {
		c.addf(d, path+".kind", "must be %q, got %q", want, kind)
	}
	if apiVersion != "" && apiVersion != APIVersion {
		c.addf(d, path+".apiVersion", "must be %q, got %q", APIVersion, apiVersion)
	}
}

// joinNames is a sorted, comma-separated list.
func joinNames(m map[string]bool) string {
	return strings.Join(sortedKeys(m), ",")
}
