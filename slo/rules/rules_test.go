package rules

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func load(t *testing.T) []*spec.SLO {
	t.Helper()
	slos, err := formats.Load("testdata/*.yaml")
	require.NoError(t, err)
	return slos
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name, golden string
		opts         Options
	}{
		{"the prometheus format is one rule file of groups", "golden.prometheus.yml", Options{}},
		{"the mimir format adds the namespace and source tenants", "golden.mimir.yml",
			Options{Format: FormatMimir, Namespace: "slos", SourceTenants: []string{"team-a", "team-b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Generate(load(t), tc.opts)
			require.NoError(t, err)
			path := filepath.Join("testdata", "golden", tc.golden)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o600))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"an unknown format is an error", Options{Format: "thanos"}, `'format' must be`},
		{"source tenants need the mimir format", Options{SourceTenants: []string{"a"}}, "'source_tenants' needs the mimir format"},
		{"an unknown source names both", Options{Source: "gateway"}, `'source' must be "metrics" or "agents", not "gateway"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(load(t), tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestSpanSLOsReadTheAgentsSums(t *testing.T) {
	groups, skipped := Groups(load(t), Options{})
	require.Empty(t, skipped)
	var spans *rulefmt.RuleGroup
	for i, g := range groups {
		if g.Name == "obsd-slo-search-spans" {
			spans = &groups[i]
		}
	}
	require.NotNil(t, spans, "the span SLO has its group")
	assert.Contains(t, spans.Rules[0].Expr, `sum (obsd_slo_window_bad_events{slo="search-spans", window="5m"})`)
	out, err := Generate(load(t), Options{})
	require.NoError(t, err)
	assert.Contains(t, string(out), `# SLO "search-spans" (span SLI): reads the exact window sums obsd agents export`)
	assert.NotContains(t, string(out), `# SLO "checkout-availability" (`, "a metric SLI reads its metrics by default")
}

func TestPromtoolCheckRules(t *testing.T) {
	out, err := Generate(load(t), Options{})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	promtool(t, "", "", "check", "rules", path)
}

func BenchmarkGenerate(b *testing.B) {
	slos, err := formats.Load("testdata/*.yaml")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(slos, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
