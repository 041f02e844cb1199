package spec

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// one wraps the fields of one SLO into a whole obsd/v1 file.
func one(fields string) []byte {
	return []byte(`version: obsd/v1
slos:
  - name: s
    service: svc
    objective: 99.9
    sli: {spans: {bad: {status_error: true}}}
` + fields)
}

func TestPeriodsAndBudgeting(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	tests := []struct {
		name       string
		fields     string
		wantPeriod time.Duration
		wantCal    *CalendarPeriod
		wantBudget Budgeting
	}{
		{"no period is a rolling 30d period counted in occurrences", "", 30 * 24 * time.Hour, nil, Budgeting{}},
		{"a rolling period is any duration", "    period: 28d\n", 28 * 24 * time.Hour, nil, Budgeting{}},
		{"a calendar month defaults to UTC and sizes windows for 31 days", "    calendar: {unit: month}\n",
			31 * 24 * time.Hour, &CalendarPeriod{Unit: CalendarMonth, Location: time.UTC}, Budgeting{}},
		{"a calendar week in a time zone sizes windows for 7 days", "    calendar: {unit: week, time_zone: Europe/Berlin}\n",
			7 * 24 * time.Hour, &CalendarPeriod{Unit: CalendarWeek, Location: berlin}, Budgeting{}},
		{"a calendar quarter sizes windows for 92 days", "    calendar: {unit: Quarter}\n",
			92 * 24 * time.Hour, &CalendarPeriod{Unit: CalendarQuarter, Location: time.UTC}, Budgeting{}},
		{"timeslices take a percent target and a slice window", "    budgeting: {method: timeslices, slice_target: 95, slice_window: 5m}\n",
			30 * 24 * time.Hour, nil, Budgeting{Method: Timeslices, SliceTarget: 0.95, SliceWindow: 5 * time.Minute}},
		{"ratio timeslices take only a slice window", "    budgeting: {method: ratio_timeslices, slice_window: 1m}\n",
			30 * 24 * time.Hour, nil, Budgeting{Method: RatioTimeslices, SliceWindow: time.Minute}},
		{"occurrences may be named explicitly", "    budgeting: {method: occurrences}\n", 30 * 24 * time.Hour, nil, Budgeting{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slos, err := Parse("f.yaml", one(tt.fields))
			require.NoError(t, err)
			s := slos[0]
			assert.Equal(t, tt.wantPeriod, s.Period)
			if tt.wantCal == nil {
				assert.Nil(t, s.Calendar)
			} else {
				require.NotNil(t, s.Calendar)
				assert.Equal(t, tt.wantCal.Unit, s.Calendar.Unit)
				assert.Equal(t, tt.wantCal.Location.String(), s.Calendar.Location.String())
			}
			assert.Equal(t, tt.wantBudget, s.Budgeting)
			page, _ := DefaultWindowPairs(tt.wantPeriod)
			assert.Equal(t, page, s.Alerting.Page.Windows, "factors scale with the (longest) period")
		})
	}
}

func TestPeriodAndBudgetingErrors(t *testing.T) {
	tests := []struct {
		name, fields, want string
	}{
		{"period and calendar together", "    period: 30d\n    calendar: {unit: month}\n",
			`f.yaml: slo "s": 'calendar' and 'period' are mutually exclusive`},
		{"an unknown calendar unit", "    calendar: {unit: fortnight}\n",
			`f.yaml: slo "s": 'calendar.unit' must be week, month or quarter, got "fortnight"`},
		{"a calendar without unit", "    calendar: {time_zone: UTC}\n", `f.yaml: slo "s": 'calendar.unit' is required`},
		{"an unknown time zone", "    calendar: {unit: week, time_zone: Mars/Olympus}\n",
			`f.yaml: slo "s": 'calendar.time_zone' must be an IANA time zone such as Europe/Berlin or UTC, got "Mars/Olympus"`},
		{"the machine's local zone is not a fixed zone", "    calendar: {unit: week, time_zone: Local}\n",
			`'calendar.time_zone' must be an IANA time zone`},
		{"an unknown method", "    budgeting: {method: slices}\n",
			`f.yaml: slo "s": 'budgeting.method' must be occurrences, timeslices or ratio_timeslices, got "slices"`},
		{"budgeting without method", "    budgeting: {slice_window: 5m}\n", `'budgeting.method' is required`},
		{"slice settings with occurrences", "    budgeting: {method: occurrences, slice_window: 5m}\n",
			`'budgeting' 'slice_target' and 'slice_window' need method timeslices or ratio_timeslices`},
		{"timeslices without a slice window", "    budgeting: {method: timeslices, slice_target: 90}\n",
			`f.yaml: slo "s": 'budgeting.slice_window' is required with method timeslices`},
		{"a slice window that does not divide an hour", "    budgeting: {method: timeslices, slice_target: 90, slice_window: 7m}\n",
			`'budgeting.slice_window' must be a whole number of minutes that divides 1h`},
		{"a slice window under a minute", "    budgeting: {method: ratio_timeslices, slice_window: 30s}\n",
			`'budgeting.slice_window' must be a whole number of minutes`},
		{"timeslices without a target", "    budgeting: {method: timeslices, slice_window: 5m}\n",
			`f.yaml: slo "s": 'budgeting.slice_target' must be a percentage in (0, 100] with method timeslices, got 0`},
		{"a target above 100%", "    budgeting: {method: timeslices, slice_window: 5m, slice_target: 101}\n",
			`'budgeting.slice_target' must be a percentage in (0, 100]`},
		{"a target with ratio timeslices", "    budgeting: {method: ratio_timeslices, slice_window: 5m, slice_target: 90}\n",
			`'budgeting.slice_target' is only used by method timeslices`},
		{"a custom window longer than a calendar week", "    calendar: {unit: week}\n    alerting: {ticket: {windows: [{long: 8d, short: 6h, burn_rate: 1}]}}\n",
			`'alerting.ticket.windows[0].long' must not exceed the period 168h0m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", one(tt.fields))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
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
		{"the last instant of January in Berlin is in January", CalendarPeriod{CalendarMonth, berlin}, "2026-01-31T22:59:59Z",
			"2026-01-01T00:00:00+01:00", "2026-02-01T00:00:00+01:00", 744},
		{"Berlin's February starts at 23:00 UTC on January 31", CalendarPeriod{CalendarMonth, berlin}, "2026-01-31T23:00:00Z",
			"2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00", 672},
		{"March in Berlin has 743 hours (spring forward)", CalendarPeriod{CalendarMonth, berlin}, "2026-03-15T12:00:00Z",
			"2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 743},
		{"the Berlin week of the spring change has 167 hours", CalendarPeriod{CalendarWeek, berlin}, "2026-03-29T12:00:00Z",
			"2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 167},
		{"the Berlin week of the autumn change has 169 hours", CalendarPeriod{CalendarWeek, berlin}, "2026-10-25T12:00:00Z",
			"2026-10-19T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 169},
		{"the New York week of the spring change has 167 hours", CalendarPeriod{CalendarWeek, ny}, "2026-03-08T12:00:00Z",
			"2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 167},
		{"the New York week of the autumn change has 169 hours", CalendarPeriod{CalendarWeek, ny}, "2026-11-01T12:00:00Z",
			"2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 169},
		{"a Monday at local midnight starts its week", CalendarPeriod{CalendarWeek, ny}, "2026-11-02T05:00:00Z",
			"2026-11-02T00:00:00-05:00", "2026-11-09T00:00:00-05:00", 168},
		{"Q1 ends on March 31", CalendarPeriod{CalendarQuarter, time.UTC}, "2026-03-31T23:59:59Z",
			"2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", 90 * 24},
		{"Q2 starts on April 1", CalendarPeriod{CalendarQuarter, time.UTC}, "2026-04-01T00:00:00Z",
			"2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", 91 * 24},
		{"Q4 runs to the new year", CalendarPeriod{CalendarQuarter, berlin}, "2026-12-31T22:59:59Z",
			"2026-10-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00", 92*24 + 1},
		{"Q1 starts at the new year", CalendarPeriod{CalendarQuarter, berlin}, "2026-12-31T23:00:00Z",
			"2027-01-01T00:00:00+01:00", "2027-04-01T00:00:00+02:00", 90*24 - 1},
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

// Every worked example of docs/slo-guide.md loads, and the guide
// shows it as it is in testdata/guide.
func TestGuideExamples(t *testing.T) {
	guide, err := os.ReadFile("../../docs/slo-guide.md")
	require.NoError(t, err)
	for _, f := range []string{"rolling-28d", "calendar-month", "timeslices"} {
		t.Run(f, func(t *testing.T) {
			path := fmt.Sprintf("testdata/guide/%s.yaml", f)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Contains(t, string(guide), "```yaml\n"+string(data)+"```\n", "the guide shows %s verbatim", path)
			slos, err := Load(path)
			require.NoError(t, err)
			require.Len(t, slos, 1)
			s := slos[0]
			switch f {
			case "rolling-28d":
				assert.Equal(t, 28*24*time.Hour, s.Period)
			case "calendar-month":
				require.NotNil(t, s.Calendar)
				assert.Equal(t, "month (Europe/Berlin)", s.Calendar.String())
			case "timeslices":
				assert.Equal(t, Budgeting{Method: Timeslices, SliceTarget: 0.95, SliceWindow: 5 * time.Minute}, s.Budgeting)
			}
		})
	}
}

// FuzzParsePeriods: whatever the input, an accepted SLO has a period the
// engine can run.
func FuzzParsePeriods(f *testing.F) {
	for _, p := range []string{"rolling-28d", "calendar-month", "timeslices"} {
		data, err := os.ReadFile("testdata/guide/" + p + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, s := range slos {
			if c := s.Calendar; c != nil {
				if c.Location == nil || s.Period != map[CalendarUnit]time.Duration{CalendarWeek: WeekPeriod,
					CalendarMonth: MonthPeriod, CalendarQuarter: QuarterPeriod}[c.Unit] {
					t.Fatalf("accepted calendar %+v with period %s", c, s.Period)
				}
				start, end := c.Bounds(time.Unix(1767225600, 0))
				if !end.After(start) {
					t.Fatalf("empty calendar period %s..%s", start, end)
				}
			} else if s.Period < time.Hour {
				t.Fatalf("accepted period %s", s.Period)
			}
			b := s.Budgeting
			switch b.Method {
			case Occurrences:
				if b != (Budgeting{}) {
					t.Fatalf("occurrences with slice settings %+v", b)
				}
			case Timeslices, RatioTimeslices:
				if b.SliceWindow < time.Minute || time.Hour%b.SliceWindow != 0 || b.SliceWindow%time.Minute != 0 {
					t.Fatalf("accepted slice window %s", b.SliceWindow)
				}
				if b.Method == Timeslices && !(b.SliceTarget > 0 && b.SliceTarget <= 1) {
					t.Fatalf("accepted slice target %v", b.SliceTarget)
				}
			default:
				t.Fatalf("accepted method %q", b.Method)
			}
		}
	})
}

// Every guide example loads together with the others: names are unique
// across the guide's files.
func TestGuideExamplesLoadTogether(t *testing.T) {
	_, err := Load("testdata/guide/*.yaml")
	require.NoError(t, err)
}
