package slo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

var berlin, ny = zone("Europe/Berlin"), zone("America/New_York")

func zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// calendarSLO is a calendar SLO with the factors of its longest period.
func calendarSLO(unit spec.CalendarUnit, loc *time.Location, objective float64) *spec.SLO {
	s := testSLO("cal", objective)
	s.Calendar = &spec.CalendarPeriod{Unit: unit, Location: loc}
	s.Period = map[spec.CalendarUnit]time.Duration{spec.CalendarWeek: spec.WeekPeriod,
		spec.CalendarMonth: spec.MonthPeriod, spec.CalendarQuarter: spec.QuarterPeriod}[unit]
	s.Alerting.Page.Windows, s.Alerting.Ticket.Windows = spec.DefaultWindowPairs(s.Period)
	return s
}

// ev is one batch of events stamped At (RFC 3339), fed with the fake
// clock at max(every At so far).
type ev struct {
	At         string
	Total, Bad float64
	Want       Outcome
}

// feed evaluates at the fake clock before each batch, like the
// connector's evaluation loop, and returns the clock.
func feed(t *testing.T, e *Engine, in *Instance, evs []ev) time.Time {
	t.Helper()
	var clock time.Time
	for _, x := range evs {
		ts := at(t, x.At)
		if ts.After(clock) {
			clock = ts
			e.Evaluate(context.Background(), clock, nil)
		}
		assert.Equal(t, x.Want, e.AddEvents(in, ts, x.Total, x.Bad), "outcome of the batch at %s", x.At)
	}
	return clock
}

// calendarCases are event batches around calendar boundaries and what
// the period reports after them.
var calendarCases = []struct {
	name       string
	slo        *spec.SLO
	events     []ev
	evalAt     string
	wantStart  string // in the SLO's zone
	wantHours  float64
	total, bad float64 // the period's
	total1h    float64 // the rolling 1h window's
}{
	{
		name: "January's errors do not count in February (month boundary, Europe/Berlin)",
		slo:  calendarSLO(spec.CalendarMonth, berlin, 0.99),
		events: []ev{
			{"2026-01-31T22:30:00Z", 100, 50, Counted}, // Jan 31 23:30 CET
			{"2026-01-31T23:00:00Z", 100, 1, Counted},  // Feb 1 00:00 CET: the new period
		},
		evalAt: "2026-01-31T23:10:00Z", wantStart: "2026-02-01T00:00:00+01:00", wantHours: 28 * 24,
		total: 100, bad: 1, total1h: 200,
	},
	{
		name: "the budget resets exactly at local midnight Monday after Berlin's 167h spring week",
		slo:  calendarSLO(spec.CalendarWeek, berlin, 0.99),
		events: []ev{
			{"2026-03-23T00:00:00Z", 50, 0, Counted},   // Mon 23 Mar 01:00 CET
			{"2026-03-29T21:59:00Z", 100, 10, Counted}, // Sun 29 Mar 23:59 CEST
			{"2026-03-29T22:00:00Z", 10, 0, Counted},   // Mon 30 Mar 00:00 CEST
		},
		evalAt: "2026-03-29T22:05:00Z", wantStart: "2026-03-30T00:00:00+02:00", wantHours: 168,
		total: 10, bad: 0, total1h: 110,
	},
	{
		name: "the week containing Berlin's spring change lasts 167h and holds all its events",
		slo:  calendarSLO(spec.CalendarWeek, berlin, 0.99),
		events: []ev{
			{"2026-03-23T00:00:00Z", 50, 0, Counted},
			{"2026-03-29T21:59:00Z", 100, 10, Counted},
		},
		evalAt: "2026-03-29T21:59:30Z", wantStart: "2026-03-23T00:00:00+01:00", wantHours: 167,
		total: 150, bad: 10, total1h: 100,
	},
	{
		name: "the budget resets at local midnight Monday after New York's 169h autumn week",
		slo:  calendarSLO(spec.CalendarWeek, ny, 0.99),
		events: []ev{
			{"2026-10-26T04:00:00Z", 7, 7, Counted},   // Mon 26 Oct 00:00 EDT
			{"2026-11-02T04:59:59Z", 100, 5, Counted}, // Sun 1 Nov 23:59:59 EST
			{"2026-11-02T05:00:01Z", 20, 2, Counted},  // Mon 2 Nov 00:00:01 EST
		},
		evalAt: "2026-11-02T05:01:00Z", wantStart: "2026-11-02T00:00:00-05:00", wantHours: 168,
		total: 20, bad: 2, total1h: 120,
	},
	{
		name: "New York's autumn week lasts 169h",
		slo:  calendarSLO(spec.CalendarWeek, ny, 0.99),
		events: []ev{
			{"2026-10-26T04:00:00Z", 7, 7, Counted},
			{"2026-11-02T04:59:59Z", 100, 5, Counted},
		},
		evalAt: "2026-11-02T04:59:59Z", wantStart: "2026-10-26T00:00:00-04:00", wantHours: 169,
		total: 107, bad: 12, total1h: 100,
	},
	{
		name: "New York's spring week lasts 167h",
		slo:  calendarSLO(spec.CalendarWeek, ny, 0.99),
		events: []ev{
			{"2026-03-02T05:00:00Z", 3, 1, Counted}, // Mon 2 Mar 00:00 EST
		},
		evalAt: "2026-03-08T12:00:00Z", wantStart: "2026-03-02T00:00:00-05:00", wantHours: 167,
		total: 3, bad: 1, total1h: 0,
	},
	{
		name: "the second quarter starts on April 1 (UTC)",
		slo:  calendarSLO(spec.CalendarQuarter, time.UTC, 0.999),
		events: []ev{
			{"2026-03-31T23:59:00Z", 1000, 100, Counted},
			{"2026-04-01T00:00:00Z", 1000, 1, Counted},
		},
		evalAt: "2026-04-01T00:30:00Z", wantStart: "2026-04-01T00:00:00Z", wantHours: 91 * 24,
		total: 1000, bad: 1, total1h: 2000,
	},
	{
		name: "the first quarter starts at the new year in Berlin",
		slo:  calendarSLO(spec.CalendarQuarter, berlin, 0.999),
		events: []ev{
			{"2026-12-31T22:59:00Z", 1000, 100, Counted}, // Dec 31 23:59 CET
			{"2026-12-31T23:00:00Z", 500, 5, Counted},    // Jan 1 00:00 CET
		},
		evalAt: "2026-12-31T23:30:00Z", wantStart: "2027-01-01T00:00:00+01:00", wantHours: 90*24 - 1,
		total: 500, bad: 5, total1h: 1500,
	},
	{
		name: "a late event from the previous period counts in the alert windows only",
		slo:  calendarSLO(spec.CalendarMonth, time.UTC, 0.99),
		events: []ev{
			{"2026-02-28T23:50:00Z", 100, 0, Counted},
			{"2026-03-01T00:01:00Z", 100, 0, Counted},
			{"2026-02-28T23:59:00Z", 100, 90, PreviousPeriod},
		},
		evalAt: "2026-03-01T00:05:00Z", wantStart: "2026-03-01T00:00:00Z", wantHours: 31 * 24,
		total: 100, bad: 0, total1h: 300,
	},
}

func TestCalendarPeriodBudget(t *testing.T) {
	tests := calendarCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, tt.slo)
			in := e.Instance(0, HashSeed, nil, at(t, tt.events[0].At))
			feed(t, e, in, tt.events)
			now := at(t, tt.evalAt)
			st := status(e, now)
			loc := tt.slo.Calendar.Location
			assert.Equal(t, tt.wantStart, st.PeriodStart.In(loc).Format(time.RFC3339))
			assert.Equal(t, tt.wantHours, st.PeriodEnd.Sub(st.PeriodStart).Hours())
			p := st.Windows[WindowPeriod]
			assert.Equal(t, tt.total, p.Total)
			assert.Equal(t, tt.bad, p.Bad)
			assert.Equal(t, st.PeriodEnd.Sub(st.PeriodStart), p.Window)
			assert.Equal(t, tt.total1h, st.Windows[2].Total, "the 1h alert window stays rolling")
			_, burn, _ := windowResult(tt.total, tt.bad, errorBudget(tt.slo.Objective))
			assert.InDelta(t, 1-burn, st.BudgetRemaining, 1e-9)
		})
	}
}

func TestCalendarPeriodStatsAndExhaustion(t *testing.T) {
	e, _ := newTestEngine(t, calendarSLO(spec.CalendarMonth, time.UTC, 0.9))
	in := e.Instance(0, HashSeed, nil, at(t, "2026-03-01T00:00:00Z"))
	feed(t, e, in, []ev{{"2026-03-01T01:00:00Z", 100, 5, Counted}, {"2026-02-27T00:00:00Z", 1, 0, PreviousPeriod}})
	assert.Equal(t, uint64(1), e.Stats()["previous_period"])
	st := status(e, at(t, "2026-03-01T02:00:00Z"))
	assert.InDelta(t, 0.5, st.BudgetRemaining, 1e-9)
	assert.Equal(t, time.Duration(-1), st.TimeToExhaustion, "a burn rate under 1 lasts past the reset")
	// At a long-window burn rate of 2, half the budget lasts a quarter of
	// 31 days (186h): before the end of March when said on March 1, past
	// it (so -1) when said on March 25.
	assert.Equal(t, 186*time.Hour, in.exhaustion(0.5, 2, st.At))
	assert.Equal(t, time.Duration(-1), in.exhaustion(0.5, 2, at(t, "2026-03-25T00:00:00Z")))
}

func TestCalendarRestartMidPeriod(t *testing.T) {
	s := calendarSLO(spec.CalendarMonth, berlin, 0.99)
	path := filepath.Join(t.TempDir(), "slo.snapshot")
	e, _ := newTestEngine(t, s)
	in := e.Instance(0, HashSeed, nil, at(t, "2026-01-20T00:00:00Z"))
	var evs []ev
	for d := 20; d <= 31; d++ { // Jan 20 .. Jan 31 at 12:00 UTC: January in Berlin
		evs = append(evs, ev{time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC).Format(time.RFC3339), 1000, 20, Counted})
	}
	evs = append(evs, ev{"2026-01-31T23:30:00Z", 1000, 1, Counted}) // Feb 1 00:30 in Berlin
	for d := 1; d <= 10; d++ {
		evs = append(evs, ev{time.Date(2026, 2, d, 12, 0, 0, 0, time.UTC).Format(time.RFC3339), 1000, 2, Counted})
	}
	now := feed(t, e, in, evs)
	before := status(e, now)
	require.Equal(t, 11000.0, before.Windows[WindowPeriod].Total)
	require.Equal(t, 21.0, before.Windows[WindowPeriod].Bad)
	require.NoError(t, e.WriteSnapshot(path, now))

	e2, _ := newTestEngine(t, s)
	require.NoError(t, e2.RestoreSnapshot(path, now))
	after := status(e2, now)
	assert.Equal(t, before.Windows, after.Windows, "the period's accounting survives the restart")
	assert.Equal(t, before.PeriodStart, after.PeriodStart)
	in2 := e2.Instance(0, HashSeed, nil, now)
	assert.Equal(t, PreviousPeriod, e2.AddEvents(in2, at(t, "2026-01-31T22:00:00Z"), 5, 5), "January stays closed after a restart")
	assert.Equal(t, Counted, e2.AddEvents(in2, now.Add(time.Minute), 5, 5))
	st := status(e2, now.Add(time.Minute))
	assert.Equal(t, 11005.0, st.Windows[WindowPeriod].Total)
	st = status(e2, at(t, "2026-02-28T23:00:00Z")) // Mar 1 00:00 Berlin
	assert.Equal(t, 0.0, st.Windows[WindowPeriod].Total, "the budget resets at the next boundary")
	assert.Equal(t, 1.0, st.BudgetRemaining)

	t.Run("a snapshot without the period state rebuilds it from the slices", func(t *testing.T) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(data, &raw))
		for _, in := range raw["instances"].([]any) {
			delete(in.(map[string]any), "period")
		}
		data, err = json.Marshal(raw)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		e3, _ := newTestEngine(t, s)
		require.NoError(t, e3.RestoreSnapshot(path, now))
		st := status(e3, now)
		// The 00:30 batch sits in the 2h slice (22:00, 24:00] UTC, which
		// straddles the Berlin midnight (23:00 UTC): left out.
		assert.Equal(t, 10000.0, st.Windows[WindowPeriod].Total)
		assert.Equal(t, 20.0, st.Windows[WindowPeriod].Bad)
	})
}

// timesliceSLO is a 30d SLO of 5m slices.
func timesliceSLO(method spec.BudgetingMethod, objective float64) *spec.SLO {
	s := testSLO("ts", objective)
	s.Budgeting = spec.Budgeting{Method: method, SliceWindow: 5 * time.Minute}
	if method == spec.Timeslices {
		s.Budgeting.SliceTarget = 0.95
	}
	return s
}

func TestTimeslices(t *testing.T) {
	// Slices of 5m from t0: (0,5m] 98% good, (5m,10m] 90%, (10m,15m]
	// empty, (15m,20m] exactly 95%, (20m,25m] 100%.
	events := []ev{
		{minute(1).Format(time.RFC3339), 60, 1, Counted},
		{minute(4).Format(time.RFC3339), 40, 1, Counted},
		{minute(6).Format(time.RFC3339), 100, 10, Counted},
		{minute(16).Format(time.RFC3339), 20, 1, Counted},
		{minute(21).Format(time.RFC3339), 10, 0, Counted},
	}
	tests := []struct {
		name       string
		slo        *spec.SLO
		fed        int // events fed
		evalAt     time.Time
		total, bad float64
	}{
		{"a slice is judged only once it settled", timesliceSLO(spec.Timeslices, 0.5), 3, minute(6).Add(59 * time.Second), 0, 0},
		{"a settled slice is judged", timesliceSLO(spec.Timeslices, 0.5), 3, minute(7), 1, 0},
		{"slices below the target are bad; empty slices are ignored; the target itself is good",
			timesliceSLO(spec.Timeslices, 0.5), 5, minute(22), 3, 1},
		{"the last slice counts after its settle time", timesliceSLO(spec.Timeslices, 0.5), 5, minute(27), 4, 1},
		{"ratio timeslices average the slices' error ratios", timesliceSLO(spec.RatioTimeslices, 0.5), 5, minute(27), 4, 0.02 + 0.1 + 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, tt.slo)
			in := e.Instance(0, HashSeed, nil, t0)
			feed(t, e, in, events[:tt.fed])
			st := status(e, tt.evalAt)
			p := st.Windows[WindowPeriod]
			assert.Equal(t, tt.total, p.Total)
			assert.InDelta(t, tt.bad, p.Bad, 1e-12)
			if tt.total > 0 {
				assert.InDelta(t, 1-(tt.bad/tt.total)/0.5, st.BudgetRemaining, 1e-9, "budget remaining counted in slices")
			}
			want := 0.0
			for _, x := range events[:tt.fed] {
				want += x.Total
			}
			assert.Equal(t, want, st.Windows[reportIndex("1h")].Total, "alert windows count events")
		})
	}
}

func TestTimeslicesInCalendarPeriodAndRestart(t *testing.T) {
	s := timesliceSLO(spec.Timeslices, 0.9)
	s.Calendar = &spec.CalendarPeriod{Unit: spec.CalendarMonth, Location: time.UTC}
	path := filepath.Join(t.TempDir(), "slo.snapshot")
	e, _ := newTestEngine(t, s)
	start := at(t, "2026-01-31T23:40:00Z")
	in := e.Instance(0, HashSeed, nil, start)
	var evs []ev
	for m := 1; m <= 40; m++ { // 23:41 .. 00:20; every other slice bad
		bad := 0.0
		if (m-1)/5%2 == 1 { // 23:41-23:45 good, 23:46-23:50 bad, ...
			bad = 1
		}
		evs = append(evs, ev{start.Add(time.Duration(m) * time.Minute).Format(time.RFC3339), 1, bad, Counted})
	}
	now := feed(t, e, in, evs)
	now = now.Add(3 * time.Minute) // 00:23: the slices up to 00:20 settled
	st := status(e, now)
	assert.Equal(t, "2026-02-01T00:00:00Z", st.PeriodStart.Format(time.RFC3339))
	assert.Equal(t, 4.0, st.Windows[WindowPeriod].Total, "January's slices stay in January")
	assert.Equal(t, 2.0, st.Windows[WindowPeriod].Bad)
	require.NoError(t, e.WriteSnapshot(path, now))

	e2, _ := newTestEngine(t, s)
	require.NoError(t, e2.RestoreSnapshot(path, now))
	in2 := e2.Instance(0, HashSeed, nil, now)
	after := status(e2, now)
	assert.Equal(t, st.Windows, after.Windows)
	e2.AddEvents(in2, now.Add(time.Minute), 10, 10) // slice (00:20, 00:25]
	after = status(e2, now.Add(10*time.Minute))
	assert.Equal(t, 5.0, after.Windows[WindowPeriod].Total, "judged slices are not judged again after a restart")
	assert.Equal(t, 3.0, after.Windows[WindowPeriod].Bad)
}

// reportIndex is the index of a report window by name, for tests.
func reportIndex(name string) int {
	for i, w := range contract.Windows {
		if w == name {
			return i
		}
	}
	return -1
}

func TestEveryPeriodKindFitsTheInstanceMemoryBudget(t *testing.T) {
	for name, s := range map[string]*spec.SLO{
		"a rolling 30d SLO":  testSLO("a", 0.99),
		"a calendar quarter": calendarSLO(spec.CalendarQuarter, berlin, 0.99),
		"30d of 1m time slices": func() *spec.SLO {
			s := timesliceSLO(spec.RatioTimeslices, 0.99)
			s.Budgeting.SliceWindow = time.Minute
			return s
		}(),
		"a calendar month of 5m time slices": calendarTimesliceSLO(t),
	} {
		t.Run(name, func(t *testing.T) {
			e, _ := newTestEngine(t, s)
			assert.LessOrEqual(t, e.InstanceBytes(0), 64<<10)
		})
	}
}

func TestEngineRefusesPeriodKindsItCannotRun(t *testing.T) {
	tests := []struct {
		name string
		edit func(*spec.SLO)
		want string
	}{
		{"an unknown calendar unit", func(s *spec.SLO) { s.Calendar = &spec.CalendarPeriod{Unit: "year"} },
			`slo "x": calendar unit "year" is not week, month or quarter`},
		{"an unknown budgeting method", func(s *spec.SLO) { s.Budgeting.Method = "Occurrences" },
			`slo "x": budgeting method "Occurrences" is not occurrences`},
		{"a slice window under a minute", func(s *spec.SLO) {
			s.Budgeting = spec.Budgeting{Method: spec.RatioTimeslices, SliceWindow: 30 * time.Second}
		}, `slo "x": time slice window 30s is not a whole number of minutes`},
		{"a slice target of 95 instead of 0.95", func(s *spec.SLO) {
			s.Budgeting = spec.Budgeting{Method: spec.Timeslices, SliceWindow: time.Minute, SliceTarget: 95}
		}, `slo "x": time slice target 95 is not in (0, 1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSLO("x", 0.99)
			tt.edit(s)
			_, err := NewEngine([]*spec.SLO{s}, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// The guide's examples, loaded from their YAML, run in the engine.
func TestGuideExamplesRunInTheEngine(t *testing.T) {
	load := func(name string) *spec.SLO {
		slos, err := formats.Load("formats/testdata/guide/" + name + ".yaml")
		require.NoError(t, err)
		return slos[0]
	}
	t.Run("rolling 28d: errors of 29 days ago no longer count", func(t *testing.T) {
		e, _ := newTestEngine(t, load("rolling-28d"))
		in := e.Instance(0, HashSeed, nil, t0)
		e.AddEvents(in, t0.Add(time.Hour), 1000, 1000)
		now := t0.Add(29 * 24 * time.Hour)
		e.Evaluate(context.Background(), now.Add(-time.Minute), nil)
		e.AddEvents(in, now, 1000, 0)
		st := status(e, now)
		assert.Equal(t, 1000.0, st.Windows[WindowPeriod].Total)
		assert.Equal(t, 1.0, st.BudgetRemaining)
		assert.Equal(t, now.Add(-28*24*time.Hour), st.PeriodStart)
	})
	t.Run("calendar month in Berlin: the budget is full again at local midnight on the 1st", func(t *testing.T) {
		e, _ := newTestEngine(t, load("calendar-month"))
		in := e.Instance(0, HashSeed, nil, t0)
		e.AddEvents(in, at(t, "2026-01-31T22:00:00Z"), 4000, 1) // 23:00 in Berlin: half the 0.05% budget spent
		st := status(e, at(t, "2026-01-31T22:59:00Z"))
		assert.InDelta(t, 0.5, st.BudgetRemaining, 1e-9)
		st = status(e, at(t, "2026-01-31T23:00:00Z"))
		assert.Equal(t, 1.0, st.BudgetRemaining)
		assert.Equal(t, "2026-02-01T00:00:00+01:00", st.PeriodStart.In(mustZone(t, "Europe/Berlin")).Format(time.RFC3339))
	})
	t.Run("time slices: one bad slice in 200 spends half of a 99% budget of 5m slices", func(t *testing.T) {
		e, _ := newTestEngine(t, load("timeslices"))
		in := e.Instance(0, HashSeed, nil, t0)
		for m := 0; m < 200; m++ {
			bad := 0.0
			if m == 10 {
				bad = 10 // 90% fast: under the 95% slice target
			}
			ts := t0.Add(time.Duration(m)*5*time.Minute + time.Minute)
			e.Evaluate(context.Background(), ts, nil)
			e.AddEvents(in, ts, 100, bad)
		}
		st := status(e, t0.Add(200*5*time.Minute+sliceSettle))
		assert.Equal(t, 200.0, st.Windows[WindowPeriod].Total)
		assert.Equal(t, 1.0, st.Windows[WindowPeriod].Bad)
		assert.InDelta(t, 0.5, st.BudgetRemaining, 1e-9)
	})
}
