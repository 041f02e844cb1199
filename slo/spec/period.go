package spec

import (
	"fmt"
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
	if !c.Start.IsZero() {
		return c.anchoredBounds(t, loc)
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

// anchoredBounds is Bounds for periods anchored at c.Start.
func (c *CalendarPeriod) anchoredBounds(t time.Time, loc *time.Location) (start, end time.Time) {
	a := c.Start.In(loc)
	ay, am, ad := a.Date()
	hh, mm, ss := a.Clock()
	at := func(k int) time.Time {
		if c.Unit == CalendarWeek {
			return time.Date(ay, am, ad+7*k, hh, mm, ss, 0, loc)
		}
		months := k
		if c.Unit == CalendarQuarter {
			months = 3 * k
		}
		first := time.Date(ay, am+time.Month(months), 1, 0, 0, 0, 0, loc)
		last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, loc).Day()
		return time.Date(first.Year(), first.Month(), min(ad, last), hh, mm, ss, 0, loc)
	}
	lt := t.In(loc)
	var k int
	switch c.Unit {
	case CalendarWeek:
		k = int(lt.Sub(a) / (7 * 24 * time.Hour))
	case CalendarQuarter:
		k = ((lt.Year()-ay)*12 + int(lt.Month()-am)) / 3
	default:
		k = (lt.Year()-ay)*12 + int(lt.Month()-am)
	}
	for at(k).After(t) {
		k--
	}
	for !at(k + 1).After(t) {
		k++
	}
	return at(k), at(k + 1)
}

// String is "month (Europe/Berlin)".
func (c *CalendarPeriod) String() string {
	loc := "UTC"
	if c.Location != nil {
		loc = c.Location.String()
	}
	if !c.Start.IsZero() {
		return fmt.Sprintf("%s (%s, from %s)", c.Unit, loc, c.Start.In(c.Location).Format("2006-01-02 15:04:05"))
	}
	return fmt.Sprintf("%s (%s)", c.Unit, loc)
}

// MinPeriod is the shortest rolling compliance period.
const MinPeriod = time.Hour

// MaxSliceWindow bounds a timeslices budgeting's slice window.
const MaxSliceWindow = time.Hour

// ValidSliceWindow reports whether d can be a slice window: a whole
// number of minutes that divides an hour, so that slices line up with the
// engine's 1m slices and with every hour.
func ValidSliceWindow(d time.Duration) bool {
	return d >= time.Minute && d <= MaxSliceWindow && d%time.Minute == 0 && MaxSliceWindow%d == 0
}
