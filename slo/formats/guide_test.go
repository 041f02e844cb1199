package formats

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

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
				assert.Equal(t, spec.Budgeting{Method: spec.Timeslices, SliceTarget: 0.95, SliceWindow: 5 * time.Minute}, s.Budgeting)
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
				if c.Location == nil || s.Period != map[spec.CalendarUnit]time.Duration{spec.CalendarWeek: spec.WeekPeriod,
					spec.CalendarMonth: spec.MonthPeriod, spec.CalendarQuarter: spec.QuarterPeriod}[c.Unit] {
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
			case spec.Occurrences:
				if b != (spec.Budgeting{}) {
					t.Fatalf("occurrences with slice settings %+v", b)
				}
			case spec.Timeslices, spec.RatioTimeslices:
				if b.SliceWindow < time.Minute || time.Hour%b.SliceWindow != 0 || b.SliceWindow%time.Minute != 0 {
					t.Fatalf("accepted slice window %s", b.SliceWindow)
				}
				if b.Method == spec.Timeslices && !(b.SliceTarget > 0 && b.SliceTarget <= 1) {
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
