package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/formats/openslo"
	"github.com/obsd-dev/obsd/slo/spec"
)

// yamlFence is a ```yaml block of a Markdown file; the guide shows
// configuration fragments and CI snippets as ```text, so every yaml block
// is a complete SLO file.
var yamlFence = regexp.MustCompile("(?s)```yaml\n(.*?)```\n")

// TestGuide: every yaml block of docs/slo-guide.md is an SLO file that
// loads with formats.Load and that obsd slo lint finds no error in.
func TestGuide(t *testing.T) {
	guide, err := os.ReadFile("../../docs/slo-guide.md")
	require.NoError(t, err)
	blocks := yamlFence.FindAllSubmatch(guide, -1)
	require.GreaterOrEqual(t, len(blocks), 10, "the guide has a worked example per SLI source and per period kind")
	dir := t.TempDir()
	kinds := map[string]bool{}
	for i, b := range blocks {
		t.Run("block "+strconv.Itoa(i+1), func(t *testing.T) {
			path := filepath.Join(dir, "block-"+strconv.Itoa(i+1)+".yaml")
			require.NoError(t, os.WriteFile(path, b[1], 0o600))
			slos, err := formats.Load(path)
			require.NoError(t, err, "yaml block %d of docs/slo-guide.md:\n%s", i+1, b[1])
			require.NotEmpty(t, slos)
			if openslo.Is(b[1]) {
				kinds["openslo"] = true
			}
			for _, s := range slos {
				kinds[sliKind(s)] = true
				kinds[periodKind(s)] = true
			}
			findings, err := Run([]string{path}, Options{})
			require.NoError(t, err)
			for _, f := range findings {
				assert.NotEqual(t, Error, f.Severity, "yaml block %d: %s", i+1, f)
			}
		})
	}
	_, err = formats.Load(filepath.Join(dir, "*.yaml"))
	assert.NoError(t, err, "the guide's examples load together: their names are unique")
	for _, k := range []string{"metric ratio", "latency", "spans", "logs", "rolling", "calendar", "timeslices", "openslo"} {
		assert.True(t, kinds[k], "the guide has no worked example of %s", k)
	}
	if strings.Contains(string(guide), "slo-guide-sources.md") || strings.Contains(string(guide), "slo-guide-periods.md") {
		t.Error("the guide still points at the folded-in drafts")
	}
}

func sliKind(s *spec.SLO) string {
	switch {
	case s.SLI.Metric != nil:
		return "metric ratio"
	case s.SLI.Latency != nil:
		return "latency"
	case s.SLI.Spans != nil:
		return "spans"
	case s.SLI.Logs != nil:
		return "logs"
	}
	return "none"
}

func periodKind(s *spec.SLO) string {
	switch {
	case s.Budgeting.Method != spec.Occurrences:
		return "timeslices"
	case s.Calendar != nil:
		return "calendar"
	}
	return "rolling"
}
