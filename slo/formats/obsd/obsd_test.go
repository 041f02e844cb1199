package obsd

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
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
		wantCal    *spec.CalendarPeriod
		wantBudget spec.Budgeting
	}{
		{"no period is a rolling 30d period counted in occurrences", "", 30 * 24 * time.Hour, nil, spec.Budgeting{}},
		{"a rolling period is any duration", "    period: 28d\n", 28 * 24 * time.Hour, nil, spec.Budgeting{}},
		{"a calendar month defaults to UTC and sizes windows for 31 days", "    calendar: {unit: month}\n",
			31 * 24 * time.Hour, &spec.CalendarPeriod{Unit: spec.CalendarMonth, Location: time.UTC}, spec.Budgeting{}},
		{"a calendar week in a time zone sizes windows for 7 days", "    calendar: {unit: week, time_zone: Europe/Berlin}\n",
			7 * 24 * time.Hour, &spec.CalendarPeriod{Unit: spec.CalendarWeek, Location: berlin}, spec.Budgeting{}},
		{"a calendar quarter sizes windows for 92 days", "    calendar: {unit: Quarter}\n",
			92 * 24 * time.Hour, &spec.CalendarPeriod{Unit: spec.CalendarQuarter, Location: time.UTC}, spec.Budgeting{}},
		{"timeslices take a percent target and a slice window", "    budgeting: {method: timeslices, slice_target: 95, slice_window: 5m}\n",
			30 * 24 * time.Hour, nil, spec.Budgeting{Method: spec.Timeslices, SliceTarget: 0.95, SliceWindow: 5 * time.Minute}},
		{"ratio timeslices take only a slice window", "    budgeting: {method: ratio_timeslices, slice_window: 1m}\n",
			30 * 24 * time.Hour, nil, spec.Budgeting{Method: spec.RatioTimeslices, SliceWindow: time.Minute}},
		{"occurrences may be named explicitly", "    budgeting: {method: occurrences}\n", 30 * 24 * time.Hour, nil, spec.Budgeting{}},
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
			page, _ := spec.DefaultWindowPairs(tt.wantPeriod)
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

func TestLogSLIValidation(t *testing.T) {
	tests := []struct{ name, sli, want string }{
		{"a log SLI needs bad or min_severity", `logs: {total: '{a="1"}'}`, `'sli.logs' must set 'bad'`},
		{"an invalid selector names its key", `logs: {bad: '{a=5}'}`, `'sli.logs.bad' is not a valid log selector`},
		{"an unknown severity is an error", `logs: {min_severity: LOUD}`, `'sli.logs.min_severity' "LOUD" is not a severity`},
		{"a bad group_by field is an error", `logs: {min_severity: ERROR, group_by: ["body..x"]}`, `'sli.logs.group_by[0]'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "version: obsd/v1\nslos:\n  - name: x\n    service: s\n    objective: 99\n    sli:\n      " + tt.sli + "\n"
			_, err := Parse("f.yaml", []byte(doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestGroupByLimit(t *testing.T) {
	doc := func(limit string) string {
		return "version: obsd/v1\nslos:\n  - name: x\n    service: s\n    objective: 99\n" + limit +
			"    sli:\n      logs: {min_severity: ERROR, group_by: [http.route, body.tenant]}\n"
	}
	slos, err := Parse("f.yaml", []byte(doc("")))
	require.NoError(t, err)
	assert.Equal(t, spec.DefaultGroupByLimit, slos[0].GroupByLimit, "absent means the default")
	assert.Equal(t, []string{"http.route", "body.tenant"}, slos[0].GroupBy())
	slos, err = Parse("f.yaml", []byte(doc("    group_by_limit: 0\n")))
	require.NoError(t, err)
	assert.Equal(t, spec.DefaultGroupByLimit, slos[0].Limit(), "0 means the default")
	slos, err = Parse("f.yaml", []byte(doc("    group_by_limit: 5\n")))
	require.NoError(t, err)
	assert.Equal(t, 5, slos[0].Limit())
	_, err = Parse("f.yaml", []byte(doc("    group_by_limit: -1\n")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'group_by_limit' must be at least 1`)
}

func TestParseRefusesAnotherVersion(t *testing.T) {
	_, err := Parse("s.yaml", []byte("version: prometheus/v1\nslos: []\n"))
	assert.EqualError(t, err, `s.yaml: 'version' must be "obsd/v1", got "prometheus/v1"`)
	_, err = Parse("s.yaml", []byte("version: obsd/v1\nslos: []\n"))
	assert.EqualError(t, err, `s.yaml: 'slos' must declare at least one slo`)
}
