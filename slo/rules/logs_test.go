package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
)

func TestLogSLOsAreSkippedWithAComment(t *testing.T) {
	slos, err := formats.Parse("logs.yaml", []byte(`version: obsd/v1
slos:
  - name: worker-errors
    service: worker
    objective: 99
    sli:
      logs: {min_severity: ERROR}
`))
	require.NoError(t, err)
	groups, skipped := Groups(slos, "")
	assert.Empty(t, groups)
	require.Len(t, skipped, 1)
	assert.Equal(t, Skipped{SLO: "worker-errors", Reason: "log SLI: Prometheus has no metric for it"}, skipped[0])
	out, err := Generate(slos, Options{})
	require.NoError(t, err)
	assert.Contains(t, string(out), `# skipped SLO "worker-errors": log SLI`)
}
