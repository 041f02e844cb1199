package sloth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func slothFile(errorQuery, totalQuery string) []byte {
	return []byte("version: prometheus/v1\nservice: svc\nslos:\n  - name: avail\n    objective: 99.5\n    sli:\n      events:\n" +
		"        error_query: '" + errorQuery + "'\n        total_query: '" + totalQuery + "'\n")
}

func TestQueryShapes(t *testing.T) {
	tests := []struct {
		name, errorQuery, totalQuery string
		want                         string // an error the file is refused with; "" accepts it
		exportOnly                   string // part of the reason it is export-only; "" evaluates it in-process
		groupBy                      []string
	}{
		{"rate sums are accepted", `sum(rate(http_total{code=~"5.."}[{{.window}}]))`, `sum(rate(http_total[{{.window}}]))`, "", "", nil},
		{"increase sums in parentheses are accepted", `(sum(increase(http_total{code=~"5.."}[{{ .window }}])))`, `sum(increase(http_total[{{.window}}]))`, "", "", nil},
		{"sum by is a group_by", `sum by (route) (rate(http_total{code=~"5.."}[{{.window}}]))`, `sum by (route) (rate(http_total[{{.window}}]))`, "", "", []string{"route"}},
		{"a ratio is export-only, naming the supported shapes", `sum(rate(a_total[5m])) / sum(rate(b_total[5m]))`, `sum(rate(b_total[5m]))`,
			"", `'sli.events.error_query' has the shape "sum(rate(a_total[5m])) / sum(rate(b_total[5m]))"; obsd evaluates only ` + SupportedShapes, nil},
		{"different groupings are export-only", `sum by (route) (rate(http_total{code="500"}[5m]))`, `sum(rate(http_total[5m]))`,
			"", `error_query groups by [route] but total_query by []`, nil},
		{"invalid PromQL names the field", `sum(rate(`, `sum(rate(http_total[5m]))`, `'sli.events.error_query' is not valid PromQL`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slos, err := Parse("svc.yaml", slothFile(tt.errorQuery, tt.totalQuery))
			if tt.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				return
			}
			require.NoError(t, err)
			require.Len(t, slos, 1)
			assert.Equal(t, "svc-avail", slos[0].Name)
			if tt.exportOnly != "" {
				require.NotNil(t, slos[0].SLI.PromQL)
				assert.Nil(t, slos[0].SLI.Metric)
				assert.Contains(t, slos[0].ExportOnly(), tt.exportOnly)
				assert.Equal(t, "("+tt.errorQuery+")\n/\n("+tt.totalQuery+")", slos[0].SLI.PromQL.ErrorRatio, "Sloth's events rule")
				return
			}
			assert.Equal(t, "http_total", slos[0].SLI.Metric.Total.MetricName)
			assert.Equal(t, tt.groupBy, slos[0].SLI.Metric.GroupBy)
		})
	}
}

func TestParseRefusesAnotherVersion(t *testing.T) {
	_, err := Parse("o.yaml", []byte("version: obsd/v1\nslos: [{name: a, period: 30d}]\n"))
	assert.EqualError(t, err, `o.yaml: 'version' must be "prometheus/v1" (or 'apiVersion' "sloth.slok.dev/v1" with 'kind' PrometheusServiceLevel), got version "obsd/v1"`)
	_, err = Parse("o.yaml", []byte("version: prometheus/v2\nservice: s\nslos: []\n"))
	assert.EqualError(t, err, `o.yaml: 'version' must be "prometheus/v1" (or 'apiVersion' "sloth.slok.dev/v1" with 'kind' PrometheusServiceLevel), got version "prometheus/v2"`)
}
