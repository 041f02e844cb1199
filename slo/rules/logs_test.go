package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
)

func TestLogSLOsReadTheAgentsSums(t *testing.T) {
	slos, err := formats.Parse("logs.yaml", []byte(`version: obsd/v1
slos:
  - name: worker-errors
    service: worker
    objective: 99
    sli:
      logs: {min_severity: ERROR, group_by: [http.route]}
`))
	require.NoError(t, err)
	groups, skipped := Groups(slos, Options{})
	assert.Empty(t, skipped)
	require.Len(t, groups, 1)
	assert.Equal(t, "obsd-slo-worker-errors", groups[0].Name)
	assert.Equal(t, "obsd_slo:sli_error:ratio_rate5m", groups[0].Rules[0].Record)
	assert.Equal(t, "sum by (http_route) (obsd_slo_window_bad_events{slo=\"worker-errors\", window=\"5m\"})\n/\n"+
		"sum by (http_route) (obsd_slo_window_events{slo=\"worker-errors\", window=\"5m\"})", groups[0].Rules[0].Expr,
		"the group label as remote write names it")
	out, err := Generate(slos, Options{})
	require.NoError(t, err)
	assert.Contains(t, string(out), `# SLO "worker-errors" (log SLI): reads the exact window sums obsd agents export`)
}
