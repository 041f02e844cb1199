package formats

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats/obsd"
	"github.com/obsd-dev/obsd/slo/spec"
)

// convertible are files of every format whose SLOs obsd evaluates.
var convertible = []string{
	"testdata/sloth.yaml",
	"sloth/testdata/crd.yaml",
	"testdata/openslo/valid/*.yaml",
	"testdata/openslo/wild/list.yaml",
	"testdata/openslo/anchored/calendar-mid-month.yaml",
	"pyrra/testdata/published/examples__kubernetes__slos__*.yaml",
	"pyrra/testdata/published/examples__caddy-response-latency.yaml",
}

// obsd slo convert writes every SLO as obsd/v1 that reads back into the
// same model, whatever format it came from.
func TestConvertRoundTrip(t *testing.T) {
	for _, pattern := range convertible {
		t.Run(pattern, func(t *testing.T) {
			slos, _, err := LoadExport(pattern)
			require.NoError(t, err)
			out, err := obsd.Write(slos)
			require.NoError(t, err)
			back, err := Parse("converted.yaml", out)
			require.NoError(t, err, string(out))
			require.Len(t, back, len(slos))
			for i, s := range slos {
				sameSLO(t, s, back[i])
			}
		})
	}
}

func sameSLO(t *testing.T, want, got *spec.SLO) {
	t.Helper()
	msg := want.Name
	assert.Equal(t, want.Name, got.Name, msg)
	assert.Equal(t, want.Service, got.Service, msg)
	assert.Equal(t, want.Description, got.Description, msg)
	assert.InDelta(t, want.Objective, got.Objective, 1e-12, msg)
	assert.Equal(t, want.Period, got.Period, msg)
	if want.Calendar == nil {
		assert.Nil(t, got.Calendar, msg)
	} else if assert.NotNil(t, got.Calendar, msg) {
		assert.Equal(t, want.Calendar.String(), got.Calendar.String(), msg)
		assert.True(t, want.Calendar.Start.Equal(got.Calendar.Start), msg)
	}
	assert.Equal(t, want.Budgeting.Method, got.Budgeting.Method, msg)
	assert.InDelta(t, want.Budgeting.SliceTarget, got.Budgeting.SliceTarget, 1e-12, msg)
	assert.Equal(t, want.Budgeting.SliceWindow, got.Budgeting.SliceWindow, msg)
	assert.Equal(t, len(want.Labels), len(got.Labels), msg)
	for k, v := range want.Labels {
		assert.Equal(t, v, got.Labels[k], msg)
	}
	switch {
	case want.SLI.Metric != nil:
		require.NotNil(t, got.SLI.Metric, msg)
		w, g := want.SLI.Metric, got.SLI.Metric
		assert.Equal(t, sel(w.Bad), sel(g.Bad), msg)
		assert.Equal(t, sel(w.Total), sel(g.Total), msg)
		assert.Equal(t, w.GroupBy, g.GroupBy, msg)
	case want.SLI.Latency != nil:
		require.NotNil(t, got.SLI.Latency, msg)
		assert.Equal(t, sel(want.SLI.Latency.Histogram), sel(got.SLI.Latency.Histogram), msg)
		assert.Equal(t, want.SLI.Latency.Threshold, got.SLI.Latency.Threshold, msg)
		assert.Equal(t, want.SLI.Latency.GroupBy, got.SLI.Latency.GroupBy, msg)
	default:
		t.Fatalf("%s: not a metric SLI", msg)
	}
	wa, ga := want.Alerting, got.Alerting
	assert.Equal(t, wa.Name, ga.Name, msg)
	assert.Equal(t, wa.RunbookURL, ga.RunbookURL, msg)
	assert.Equal(t, wa.MinEvents, ga.MinEvents, msg)
	assert.Equal(t, wa.Labels, ga.Labels, msg)
	assert.Equal(t, wa.Annotations, ga.Annotations, msg)
	for _, p := range [][2]spec.Severity{{wa.Page, ga.Page}, {wa.Ticket, ga.Ticket}} {
		w, g := p[0], p[1]
		assert.Equal(t, w.Enabled, g.Enabled, msg)
		assert.Equal(t, w.For, g.For, msg)
		assert.Equal(t, w.Labels, g.Labels, msg)
		assert.Equal(t, w.Annotations, g.Annotations, msg)
		require.Len(t, g.Windows, len(w.Windows), msg)
		for i := range w.Windows {
			assert.Equal(t, w.Windows[i].Long, g.Windows[i].Long, msg)
			assert.Equal(t, w.Windows[i].Short, g.Windows[i].Short, msg)
			assert.InDelta(t, w.Windows[i].Factor, g.Windows[i].Factor, 1e-9, msg)
		}
	}
}

// sel is a selector in a canonical form (matchers sorted).
func sel(s spec.Selector) string {
	parts := make([]string, len(s.Matchers))
	for i, m := range s.Matchers {
		parts[i] = m.String()
	}
	slices.Sort(parts)
	return s.MetricName + "{" + strings.Join(parts, ",") + "}"
}

// The obsd/v1 file convert writes for a Sloth CRD and a Pyrra file.
func TestConvertGolden(t *testing.T) {
	for _, tc := range []struct{ name, pattern string }{
		{"sloth-crd", "sloth/testdata/crd.yaml"},
		{"pyrra", "pyrra/testdata/published/examples__kubernetes__slos__prometheus-http-errors.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slos, _, err := LoadExport(tc.pattern)
			require.NoError(t, err)
			got, err := obsd.Write(slos)
			require.NoError(t, err)
			golden := filepath.Join("testdata/convert", tc.name+".golden.yaml")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o600))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestConvertRefusesExportOnlySLOs(t *testing.T) {
	slos, _, err := LoadExport("sloth/testdata/raw.yaml")
	require.NoError(t, err)
	_, err = obsd.Write(slos)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `sloth/testdata/raw.yaml: slo "payments-queue-health": 'sli.raw.error_ratio_query' can only be exported as Prometheus rules`)
	assert.Contains(t, err.Error(), "obsd/v1 has no field for it")
	assert.NotContains(t, err.Error(), "charges-availability", "the evaluable SLO of the file converts")
}
