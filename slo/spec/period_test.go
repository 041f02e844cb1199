package spec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendarBounds(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name       string
		cal        CalendarPeriod
		at         string // RFC 3339
		start, end string // RFC 3339 in the zone
		hours      float64
	}{
		{"the last instant of January in Berlin is in January", CalendarPeriod{Unit: CalendarMonth, Location: berlin}, "2026-01-31T22:59:59Z",
			"2026-01-01T00:00:00+01:00", "2026-02-01T00:00:00+01:00", 744},
		{"Berlin's February starts at 23:00 UTC on January 31", CalendarPeriod{Unit: CalendarMonth, Location: berlin}, "2026-01-31T23:00:00Z",
			"2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00", 672},
		{"March in Berlin has 743 hours (spring forward)", CalendarPeriod{Unit: CalendarMonth, Location: berlin}, "2026-03-15T12:00:00Z",
			"2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 743},
		{"the Berlin week of the spring change has 167 hours", CalendarPeriod{Unit: CalendarWeek, Location: berlin}, "2026-03-29T12:00:00Z",
			"2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 167},
		{"the Berlin week of the autumn change has 169 hours", CalendarPeriod{Unit: CalendarWeek, Location: berlin}, "2026-10-25T12:00:00Z",
			"2026-10-19T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 169},
		{"the New York week of the spring change has 167 hours", CalendarPeriod{Unit: CalendarWeek, Location: ny}, "2026-03-08T12:00:00Z",
			"2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 167},
		{"the New York week of the autumn change has 169 hours", CalendarPeriod{Unit: CalendarWeek, Location: ny}, "2026-11-01T12:00:00Z",
			"2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 169},
		{"a Monday at local midnight starts its week", CalendarPeriod{Unit: CalendarWeek, Location: ny}, "2026-11-02T05:00:00Z",
			"2026-11-02T00:00:00-05:00", "2026-11-09T00:00:00-05:00", 168},
		{"Q1 ends on March 31", CalendarPeriod{Unit: CalendarQuarter, Location: time.UTC}, "2026-03-31T23:59:59Z",
			"2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", 90 * 24},
		{"Q2 starts on April 1", CalendarPeriod{Unit: CalendarQuarter, Location: time.UTC}, "2026-04-01T00:00:00Z",
			"2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", 91 * 24},
		{"Q4 runs to the new year", CalendarPeriod{Unit: CalendarQuarter, Location: berlin}, "2026-12-31T22:59:59Z",
			"2026-10-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00", 92*24 + 1},
		{"Q1 starts at the new year", CalendarPeriod{Unit: CalendarQuarter, Location: berlin}, "2026-12-31T23:00:00Z",
			"2027-01-01T00:00:00+01:00", "2027-04-01T00:00:00+02:00", 90*24 - 1},
		{"a week anchored on a Sunday noon runs Sunday noon to Sunday noon", CalendarPeriod{Unit: CalendarWeek, Location: time.UTC, Start: at("2024-01-07T12:00:00Z")},
			"2026-03-04T10:00:00Z", "2026-03-01T12:00:00Z", "2026-03-08T12:00:00Z", 168},
		{"an anchored week keeps its local time over the spring change", CalendarPeriod{Unit: CalendarWeek, Location: berlin, Start: at("2026-03-22T00:00:00+01:00")},
			"2026-03-29T12:00:00Z", "2026-03-29T00:00:00+01:00", "2026-04-05T00:00:00+02:00", 167},
		{"a time before the anchor is in the period before it", CalendarPeriod{Unit: CalendarWeek, Location: time.UTC, Start: at("2026-03-04T00:00:00Z")},
			"2026-03-03T23:59:59Z", "2026-02-25T00:00:00Z", "2026-03-04T00:00:00Z", 168},
		{"a month anchored on the 15th runs 15th to 15th", CalendarPeriod{Unit: CalendarMonth, Location: time.UTC, Start: at("2025-01-15T00:00:00Z")},
			"2026-03-14T23:59:59Z", "2026-02-15T00:00:00Z", "2026-03-15T00:00:00Z", 28 * 24},
		{"a month anchored on the 31st ends on February's last day", CalendarPeriod{Unit: CalendarMonth, Location: time.UTC, Start: at("2026-01-31T00:00:00Z")},
			"2026-02-10T00:00:00Z", "2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", 28 * 24},
		{"a quarter anchored on February 1st runs Feb to May", CalendarPeriod{Unit: CalendarQuarter, Location: time.UTC, Start: at("2024-02-01T00:00:00Z")},
			"2026-04-30T00:00:00Z", "2026-02-01T00:00:00Z", "2026-05-01T00:00:00Z", 89 * 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, tt.at)
			require.NoError(t, err)
			start, end := tt.cal.Bounds(at)
			assert.Equal(t, tt.start, start.Format(time.RFC3339))
			assert.Equal(t, tt.end, end.Format(time.RFC3339))
			assert.Equal(t, tt.hours, end.Sub(start).Hours())
			assert.LessOrEqual(t, end.Sub(start), map[CalendarUnit]time.Duration{CalendarWeek: WeekPeriod + time.Hour,
				CalendarMonth: MonthPeriod + time.Hour, CalendarQuarter: QuarterPeriod + time.Hour}[tt.cal.Unit])
		})
	}
}
