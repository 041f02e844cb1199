package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
)

func TestCalendarAndTimeslicePeriods(t *testing.T) {
	slos, err := formats.Load("testdata/periods/periods.yaml")
	require.NoError(t, err)
	groups, skipped := Groups(slos, Options{})
	require.Empty(t, skipped)
	require.Len(t, groups, 3)
	tests := []struct {
		name       string
		group      rulefmt.RuleGroup
		wantPeriod string // the period recording rule, "" when left out
		wantNote   string
		pageFactor string // the first page alert's factor
	}{
		{"a calendar month exports its alerts with 31d factors but no period ratio", groups[0], "",
			"calendar month (Europe/Berlin) period: PromQL cannot express its error budget", "14.88"},
		{"time slices export their event-ratio alerts but no period ratio", groups[1], "",
			"4w period counted in 5m time slices (timeslices): PromQL cannot express", "13.44"},
		{"a rolling period counted in events exports its period ratio", groups[2], ErrorRatioRecord + "4w", "", "13.44"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var period string
			var alerts []rulefmt.Rule
			for _, r := range tt.group.Rules {
				switch {
				case r.Record == ErrorRatioRecord+"4w" || r.Record == ErrorRatioRecord+"31d":
					period = r.Record
				case r.Alert != "":
					alerts = append(alerts, r)
				}
			}
			assert.Equal(t, tt.wantPeriod, period)
			require.Len(t, alerts, 4, "two page and two ticket pairs")
			assert.Contains(t, alerts[0].Expr, ">= "+tt.pageFactor+")")
			for _, a := range alerts {
				if tt.wantNote == "" {
					assert.NotContains(t, a.Annotations, NoteAnnotation)
				} else {
					assert.Contains(t, a.Annotations[NoteAnnotation], tt.wantNote)
				}
			}
		})
	}

	out, err := Generate(slos, Options{})
	require.NoError(t, err)
	assert.Contains(t, string(out), `# SLO "pay-month": calendar month (Europe/Berlin) period: PromQL cannot express its error budget`)
	assert.Contains(t, string(out), `# SLO "pay-slices": 4w period counted in 5m time slices`)
	assert.NotContains(t, string(out), `# SLO "pay-rolling"`)

	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	promtool(t, "", "", "check", "rules", path)
}
