package formats

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example and test files Sloth, Pyrra and OpenSLO publish in their
// own repositories (see each testdata/published/NOTICE), each loaded
// alone: published.golden says, per file, how many SLOs the engine runs,
// how many are export-only, the warnings, or the reason it is refused.
func TestPublishedFilesLoad(t *testing.T) {
	var b strings.Builder
	counts := map[string][3]int{}
	for _, format := range []string{"sloth", "pyrra", "openslo"} {
		files, err := filepath.Glob(filepath.Join(format, "testdata/published/*.y*ml"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			c := counts[format]
			c[0]++
			slos, warnings, err := LoadExport(f)
			name := strings.TrimPrefix(f, format+"/testdata/published/")
			if err != nil {
				fmt.Fprintf(&b, "%s %s: refused: %s\n", format, name, oneLine(err.Error(), f))
				counts[format] = c
				continue
			}
			c[1]++
			engine, export := 0, 0
			for _, s := range slos {
				if why := s.ExportOnly(); why != "" {
					export++
					fmt.Fprintf(&b, "%s %s: slo %q export-only: %s\n", format, name, s.Name, why)
				} else {
					engine++
				}
			}
			if export == 0 {
				c[2]++
			}
			fmt.Fprintf(&b, "%s %s: loads, %d in the engine, %d export-only, %d warnings\n", format, name, engine, export, len(warnings))
			for _, w := range warnings {
				fmt.Fprintf(&b, "%s %s:   warning: %s\n", format, name, oneLine(w.Error(), f))
			}
			counts[format] = c
		}
	}
	for _, format := range []string{"sloth", "pyrra", "openslo"} {
		c := counts[format]
		fmt.Fprintf(&b, "%s: %d files, %d load (%d entirely in the engine), %d refused\n", format, c[0], c[1], c[2], c[0]-c[1])
	}
	golden := "testdata/published.golden"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o600))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String())
}

func oneLine(s, file string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(s, file+": ", ""), "\n", " | ")), " ")
}
