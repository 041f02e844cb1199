package obsd

import (
	"strings"
	"time"

	raw "github.com/obsd-dev/obsd/slo/formats/obsd/internal/spec"
	"github.com/obsd-dev/obsd/slo/spec"
)

// convertPeriod sets s.Period (and s.Calendar) from 'period' or 'calendar'.
func convertPeriod(period spec.Duration, cal *raw.Calendar, s *spec.SLO, e *spec.Problems) {
	s.Period = time.Duration(period)
	if cal == nil {
		if s.Period == 0 {
			s.Period = spec.DefaultPeriod
		} else if s.Period < spec.MinPeriod {
			e.Addf("period", "must be at least 1h, got %s", s.Period)
		}
		return
	}
	if period != 0 {
		e.Addf("calendar", "and 'period' are mutually exclusive: 'period' is a rolling period, 'calendar' a calendar one")
	}
	c := &spec.CalendarPeriod{Unit: spec.CalendarUnit(strings.ToLower(cal.Unit)), Location: time.UTC}
	switch c.Unit {
	case spec.CalendarWeek:
		s.Period = spec.WeekPeriod
	case spec.CalendarMonth:
		s.Period = spec.MonthPeriod
	case spec.CalendarQuarter:
		s.Period = spec.QuarterPeriod
	case "":
		e.Addf("calendar.unit", "is required: week, month or quarter")
		s.Period = spec.MonthPeriod
	default:
		e.Addf("calendar.unit", "must be week, month or quarter, got %q", cal.Unit)
		s.Period = spec.MonthPeriod
	}
	if cal.TimeZone != "" {
		loc, err := time.LoadLocation(cal.TimeZone)
		if err != nil || cal.TimeZone == "Local" {
			e.Addf("calendar.time_zone", "must be an IANA time zone such as Europe/Berlin or UTC, got %q", cal.TimeZone)
		} else {
			c.Location = loc
		}
	}
	if cal.Start != "" {
		start, ok := parseStart(cal.Start, c.Location)
		if !ok {
			e.Addf("calendar.start", "must be a local date and time like 2024-01-07 12:00:00, got %q", cal.Start)
		}
		c.Start = start
	}
	s.Calendar = c
}

// StartLayout is how 'calendar.start' is written: a local date and time
// in the calendar's time zone (OpenSLO's calendar startTime).
const StartLayout = "2006-01-02 15:04:05"

func parseStart(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{StartLayout, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// convertBudgeting validates 'budgeting' into s.Budgeting.
func convertBudgeting(r *raw.Budgeting, s *spec.SLO, e *spec.Problems) {
	if r == nil {
		return
	}
	method := spec.BudgetingMethod(strings.ToLower(r.Method))
	switch method {
	case "occurrences", "":
		if r.Method == "" {
			e.Addf("budgeting.method", "is required: occurrences, timeslices or ratio_timeslices")
		}
		if r.SliceTarget != 0 || r.SliceWindow != 0 {
			e.Addf("budgeting", "'slice_target' and 'slice_window' need method timeslices or ratio_timeslices")
		}
		return
	case spec.Timeslices, spec.RatioTimeslices:
	default:
		e.Addf("budgeting.method", "must be occurrences, timeslices or ratio_timeslices, got %q", r.Method)
		return
	}
	b := spec.Budgeting{Method: method, SliceWindow: time.Duration(r.SliceWindow)}
	switch {
	case b.SliceWindow == 0:
		e.Addf("budgeting.slice_window", "is required with method %s (e.g. 5m)", method)
	case !spec.ValidSliceWindow(b.SliceWindow):
		e.Addf("budgeting.slice_window", "must be a whole number of minutes that divides 1h (1m, 2m, 5m, 10m, 15m, 30m, 1h ...), got %s", b.SliceWindow)
	}
	if method == spec.Timeslices {
		if !(r.SliceTarget > 0 && r.SliceTarget <= 100) {
			e.Addf("budgeting.slice_target", "must be a percentage in (0, 100] with method timeslices, got %v", r.SliceTarget)
		}
		b.SliceTarget = spec.PercentToRatio(r.SliceTarget)
	} else if r.SliceTarget != 0 {
		e.Addf("budgeting.slice_target", "is only used by method timeslices (ratio_timeslices averages the slices' ratios)")
	}
	s.Budgeting = b
}
