package formats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The worked examples of docs/slo-guide.md (one per SLI source)
// load, each as the SLI source its file name says, and the guide shows
// each verbatim.
func TestGuideSourceExamplesLoad(t *testing.T) {
	guide, err := os.ReadFile("../../docs/slo-guide.md")
	require.NoError(t, err)
	for _, f := range []string{
		"testdata/guide/metric-ratio.yaml", "testdata/guide/metric-latency.yaml", "testdata/guide/spans.yaml",
		"testdata/guide/logs-access-attributes.yaml", "testdata/guide/logs-json-body.yaml", "testdata/guide/logs-severity.yaml",
	} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			assert.Contains(t, string(guide), "```yaml\n"+string(data)+"```\n", "the guide shows %s verbatim", f)
			slos, err := Load(f)
			require.NoError(t, err)
			require.Len(t, slos, 1)
			sli := slos[0].SLI
			switch base := filepath.Base(f); {
			case strings.HasPrefix(base, "metric-ratio"):
				assert.NotNil(t, sli.Metric)
			case strings.HasPrefix(base, "metric-latency"):
				assert.NotNil(t, sli.Latency)
			case strings.HasPrefix(base, "spans"):
				assert.NotNil(t, sli.Spans)
			case strings.HasPrefix(base, "logs"):
				require.NotNil(t, sli.Logs)
				assert.True(t, len(sli.Logs.Bad.Matchers) > 0 || sli.Logs.MinSeverity > 0)
			default:
				t.Fatalf("no expectation for %s", base)
			}
			assert.NotEmpty(t, slos[0].Alerting.RunbookURL)
		})
	}
}
