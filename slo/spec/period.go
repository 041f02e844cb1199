package spec

import (
	"fmt"
	"strings"
	"time"
	// The Go toolchain's embedded IANA time zone database, so that
	// 'calendar.time_zone' loads in distroless images without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Longest lengths of one calendar period: SLO.Period of a calendar SLO,
// which sizes its windows and scales its burn-rate factors.
const (
	WeekPeriod    = 7 * 24 * time.Hour
	MonthPeriod   = 31 * 24 * time.Hour
	QuarterPeriod = 92 * 24 * time.Hour
)

// Bounds returns the calendar period containing t: [start, end) in the
// period's time zone. Boundaries are local midnights computed with
// time.Date in the location (never by adding 24h), so a week containing a
// DST change lasts 167h or 169h and every period starts exactly at local
// midnight. A nil Location is UTC.
func (c *CalendarPeriod) Bounds(t time.Time) (start, end time.Time) {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	y, m, d := lt.Date()
	switch c.Unit {
	case CalendarWeek:
		back := (int(lt.Weekday()) + 6) % 7 // days since Monday
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	case CalendarQuarter:
		q := time.Month((int(m)-1)/3*3 + 1)
		start = time.Date(y, q, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, q+3, 1, 0, 0, 0, 0, loc)
	default: // month
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	}
	// A zone whose midnight does not exist (a DST jump at 00:00) makes
	// time.Date return a time in the previous day; t is never before start.
	if t.Before(start) {
		start = t
	}
	return start, end
}

// String is "month (Europe/Berlin)".
func (c *CalendarPeriod) String() string {
	loc := "UTC"
	if c.Location != nil {
		loc = c.Location.String()
	}
	return fmt.Sprintf("%s (%s)", c.Unit, loc)
}

// rawCalendar is 'calendar: {unit: month, time_zone: Europe/Berlin}'.
type rawCalendar struct {
	Unit     string `yaml:"unit"`
	TimeZone string `yaml:"time_zone"`
}

// rawBudgeting is 'budgeting: {method: timeslices, slice_target: 95, slice_window: 5m}'.
type rawBudgeting struct {
	Method      string   `yaml:"method"`
	SliceTarget float64  `yaml:"slice_target"` // percent
	SliceWindow Duration `yaml:"slice_window"`
}

// convertPeriod sets s.Period (and s.Calendar) from 'period' or 'calendar'.
func convertPeriod(period Duration, cal *rawCalendar, s *SLO, e *errs) {
	s.Period = time.Duration(period)
	if cal == nil {
		if s.Period == 0 {
			s.Period = DefaultPeriod
		} else if s.Period < time.Hour {
			e.addf("period", "must be at least 1h, got %s", s.Period)
		}
		return
	}
	if period != 0 {
		e.addf("calendar", "and 'period' are mutually exclusive: 'period' is a rolling period, 'calendar' a calendar one")
	}
	c := &CalendarPeriod{Unit: CalendarUnit(strings.ToLower(cal.Unit)), Location: time.UTC}
	switch c.Unit {
	case CalendarWeek:
		s.Period = WeekPeriod
	case CalendarMonth:
		s.Period = MonthPeriod
	case CalendarQuarter:
		s.Period = QuarterPeriod
	case "":
		e.addf("calendar.unit", "is required: week, month or quarter")
		s.Period = MonthPeriod
	default:
		e.addf("calendar.unit", "must be week, month or quarter, got %q", cal.Unit)
		s.Period = MonthPeriod
	}
	if cal.TimeZone != "" {
		loc, err := time.LoadLocation(cal.TimeZone)
		if err != nil || cal.TimeZone == "Local" {
			e.addf("calendar.time_zone", "must be an IANA time zone such as Europe/Berlin or UTC, got %q", cal.TimeZone)
		} else {
			c.Location = loc
		}
	}
	s.Calendar = c
}

// sliceWindowMax bounds 'slice_window'; slices are whole minutes that
// divide an hour, so they line up with the engine's 1m slices and with
// every hour.
const sliceWindowMax = time.Hour

// convertBudgeting validates 'budgeting' into s.Budgeting.
func convertBudgeting(r *rawBudgeting, s *SLO, e *errs) {
	if r == nil {
		return
	}
	method := BudgetingMethod(strings.ToLower(r.Method))
	switch method {
	case "occurrences", "":
		if r.Method == "" {
			e.addf("budgeting.method", "is required: occurrences, timeslices or ratio_timeslices")
		}
		if r.SliceTarget != 0 || r.SliceWindow != 0 {
			e.addf("budgeting", "'slice_target' and 'slice_window' need method timeslices or ratio_timeslices")
		}
		return
	case Timeslices, RatioTimeslices:
	default:
		e.addf("budgeting.method", "must be occurrences, timeslices or ratio_timeslices, got %q", r.Method)
		return
	}
	b := Budgeting{Method: method, SliceWindow: time.Duration(r.SliceWindow)}
	switch {
	case b.SliceWindow == 0:
		e.addf("budgeting.slice_window", "is required with method %s (e.g. 5m)", method)
	case b.SliceWindow < time.Minute || b.SliceWindow > sliceWindowMax || b.SliceWindow%time.Minute != 0 || sliceWindowMax%b.SliceWindow != 0:
		e.addf("budgeting.slice_window", "must be a whole number of minutes that divides 1h (1m, 2m, 5m, 10m, 15m, 30m, 1h ...), got %s", b.SliceWindow)
	}
	if method == Timeslices {
		if !(r.SliceTarget > 0 && r.SliceTarget <= 100) {
			e.addf("budgeting.slice_target", "must be a percentage in (0, 100] with method timeslices, got %v", r.SliceTarget)
		}
		b.SliceTarget = percentToRatio(r.SliceTarget)
	} else if r.SliceTarget != 0 {
		e.addf("budgeting.slice_target", "is only used by method timeslices (ratio_timeslices averages the slices' ratios)")
	}
	s.Budgeting = b
}
