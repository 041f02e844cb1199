package selfrules

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const runbookDir = "../../docs/runbooks"

func TestGenerateMatchesGolden(t *testing.T) {
	out, err := Generate(DefaultRunbookBaseURL)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "self_rules.yaml")
	if *update {
		require.NoError(t, os.WriteFile(golden, out, 0o600))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out), "run go test ./alerting/selfrules -update")
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		wantURL string
		wantErr string
	}{
		{"the default base links the GitHub pages", DefaultRunbookBaseURL,
			DefaultRunbookBaseURL + "/circuit-open.md", ""},
		{"a trailing slash on the base is not doubled", "https://wiki.example/obsd/",
			"https://wiki.example/obsd/circuit-open.md", ""},
		{"an empty base is an error", "", "", "runbook base URL is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Generate(tt.base)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			groups, errs := rulefmt.Parse(out, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
			require.Empty(t, errs)
			var found bool
			for _, r := range groups.Groups[0].Rules {
				assert.NotEmpty(t, r.Labels["severity"], r.Alert)
				assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
				assert.NotEmpty(t, r.Annotations["description"], r.Alert)
				found = found || r.Annotations["runbook_url"] == tt.wantURL
			}
			assert.True(t, found, "no rule links %s", tt.wantURL)
		})
	}
}

func TestPromtoolChecksTheRules(t *testing.T) {
	out, err := Generate(DefaultRunbookBaseURL)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "self.rules.yaml")
	require.NoError(t, os.WriteFile(file, out, 0o600))
	res, err := exec.Command(promtoolPath(), "check", "rules", file).CombinedOutput()
	require.NoError(t, err, "promtool check rules:\n%s", res)
	assert.Contains(t, string(res), "SUCCESS")
}

// TestPromtoolUnitTests runs testdata/promtool_test.yaml against the golden
// file (which TestGenerateMatchesGolden keeps equal to Generate's output):
// every alert fires on its symptom with the expected labels and
// annotations, and none fires on a healthy agent.
func TestPromtoolUnitTests(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join("testdata", "promtool_test.yaml"))
	require.NoError(t, err)
	for _, p := range Pages() {
		if p.Rule != nil {
			assert.Contains(t, string(spec), "alertname: "+p.Rule.Alert, "promtool_test.yaml tests %s", p.Rule.Alert)
		}
	}
	res, err := exec.Command(promtoolPath(), "test", "rules", filepath.Join("testdata", "promtool_test.yaml")).CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s", res)
	assert.Contains(t, string(res), "SUCCESS")
}

func promtoolPath() string {
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	return "/usr/bin/promtool"
}

func TestEveryPageExistsAndIsIndexed(t *testing.T) {
	index, err := os.ReadFile(filepath.Join(runbookDir, "README.md"))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, p := range Pages() {
		page, err := os.ReadFile(filepath.Join(runbookDir, p.File))
		require.NoError(t, err, "runbook page %s", p.File)
		assert.Contains(t, string(index), "("+p.File+")", "the index links %s", p.File)
		for _, h := range []string{"## Symptom", "## Detection", "## Impact", "## Response", "## Prevention"} {
			assert.Contains(t, string(page), h, "%s has a %q section", p.File, h)
		}
		if p.Rule != nil {
			assert.Contains(t, string(page), p.Rule.Alert, "%s names its alert", p.File)
		}
		assert.False(t, seen[p.File], "%s listed twice", p.File)
		seen[p.File] = true
	}
	// No page in the directory is left out of Pages (and so of the index test).
	entries, err := os.ReadDir(runbookDir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "README.md" && strings.HasSuffix(e.Name(), ".md") {
			assert.True(t, seen[e.Name()], "%s is not in selfrules.Pages", e.Name())
		}
	}
}

// upstreamMetrics are the collector's self-metrics the rules use, as exposed
// with without_type_suffix (no _total), with where they are defined: the
// module path, "/internal/", then the file within the module's internal
// folder, at the version go.mod pins.
var upstreamMetrics = map[string]string{
	"otelcol_exporter_queue_size":                   "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_queue_capacity":               "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_send_failed_spans":            "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_send_failed_log_records":      "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_send_failed_metric_points":    "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_enqueue_failed_spans":         "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_enqueue_failed_log_records":   "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_exporter_enqueue_failed_metric_points": "exporter/exporterhelper/internal/metadata/generated_telemetry.go",
	"otelcol_receiver_refused_spans":                "receiver/receiverhelper/internal/metadata/generated_telemetry.go",
	"otelcol_receiver_refused_log_records":          "receiver/receiverhelper/internal/metadata/generated_telemetry.go",
	"otelcol_receiver_refused_metric_points":        "receiver/receiverhelper/internal/metadata/generated_telemetry.go",
	"otelcol_process_uptime":                        "service/internal/metadata/generated_telemetry.go",
}

// obsdMetrics are obsd's own metrics the rules use, with the file that
// defines their name (the name's one owner).
var obsdMetrics = map[string]string{
	"obsd_alerts_circuit_state":             "internal/breakerstate/breakerstate.go",
	"obsd_slo_state_restore_failures_total": "slo/contract/metrics.go",
	"obsd_alerts_sent_total":                "alerting/metrics.go",
	"obsd_correlation_log_records_total":    "processors/correlation/telemetry.go",
	"obsd_circuit_breaker_state":            "internal/breakerstate/breakerstate.go",
	"obsd_shed_items_total":                 "processors/shed/telemetry.go",
	"obsd_config_reloads_total":             "internal/reloadguard/telemetry.go",
}

func TestRulesUseOnlyMetricsObsdDefines(t *testing.T) {
	for _, p := range Pages() {
		if p.Rule == nil {
			continue
		}
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(p.Rule.Expr)
		require.NoError(t, err, p.Rule.Alert)
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName {
					name = m.Value
				}
			}
			_, up := upstreamMetrics[name]
			_, own := obsdMetrics[name]
			assert.True(t, up || own, "%s uses %q, which obsd does not define", p.Rule.Alert, name)
			return nil
		})
	}
	for name, file := range obsdMetrics {
		src, err := os.ReadFile(filepath.Join("../..", file))
		require.NoError(t, err)
		assert.Contains(t, string(src), `"`+name+`"`, "%s defines %s", file, name)
	}
}

func TestUpstreamMetricsExistInTheModuleCache(t *testing.T) {
	for name, file := range upstreamMetrics {
		module, rest, _ := strings.Cut(file, "/internal/")
		// go list -m resolves the module at the version go.mod pins and
		// prints its directory in the module cache.
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.opentelemetry.io/collector/"+module).Output()
		require.NoError(t, err, "go list -m go.opentelemetry.io/collector/%s", module)
		path := filepath.Join(strings.TrimSpace(string(dir)), "internal", rest)
		src, err := os.ReadFile(path)
		require.NoError(t, err, "go mod download puts %s in the module cache", path)
		assert.True(t, bytes.Contains(src, []byte(`"`+name+`"`)), "%s defines %s", path, name)
	}
}
