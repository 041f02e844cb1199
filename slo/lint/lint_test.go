package lint

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestLintGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		golden string
		files  []string
		opt    Options
		failed bool
	}{
		{"a clean file has no finding", "clean", []string{"testdata/clean.yaml"}, Options{}, false},
		{"every kind of problem is found at its SLO's field", "problems", []string{"testdata/problems.yaml"}, Options{}, true},
		{"a missing runbook is allowed on request", "problems-allow-runbook", []string{"testdata/problems.yaml"}, Options{AllowMissingRunbook: true}, true},
		{"a name used in two files is an error in the later one", "duplicates", []string{"testdata/dup-*.yaml"}, Options{}, true},
		{"loader errors are findings at the field they name", "invalid", []string{"testdata/invalid.yaml", "testdata/unknown-key.yaml"}, Options{}, true},
		{"Sloth files are linted; a missing runbook alone does not fail them", "sloth", []string{"testdata/sloth.yaml"}, Options{}, false},
		{"--strict fails a missing runbook", "sloth-strict", []string{"testdata/sloth.yaml"}, Options{Strict: true}, true},
		{"OpenSLO files are linted, loader errors at their document", "openslo", []string{"testdata/openslo.yaml"}, Options{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			findings, err := Run(tc.files, tc.opt)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, findings))
			golden := filepath.Join("testdata", tc.golden+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o600))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), buf.String())
			assert.Equal(t, tc.failed, Failed(findings, false))
		})
	}
}

func TestFindingsNameTheirLine(t *testing.T) {
	findings, err := Run([]string{"testdata/problems.yaml"}, Options{})
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/problems.yaml")
	require.NoError(t, err)
	lineOf := func(prefix, text string) int {
		n := strings.Index(string(data), prefix)
		require.GreaterOrEqual(t, n, 0, prefix)
		i := strings.Index(string(data)[n:], text)
		require.GreaterOrEqual(t, i, 0, text)
		return strings.Count(string(data)[:n+i], "\n") + 1
	}
	want := map[string]int{
		`slo "ratio-as-percent": objective`:    lineOf("name: ratio-as-percent", "objective:"),
		`slo "contradiction": bad selector`:    lineOf("name: contradiction", "bad:"),
		`slo "no-runbook": page alerts`:        lineOf("name: no-runbook", "alerting:"),
		`slo "short-period": period`:           lineOf("name: short-period", "period:"),
		`slo "cause-metric": histogram metric`: lineOf("name: cause-metric", "histogram:"),
		`slo "never-fires": page window 1h/5m`: lineOf("name: never-fires", "page:"),
	}
	for prefix, line := range want {
		found := false
		for _, f := range findings {
			if strings.HasPrefix(f.Message, prefix) {
				found = true
				assert.Equal(t, line, f.Line, prefix)
			}
		}
		assert.True(t, found, prefix)
	}
}

func TestWarningsFailOnlyWithWerror(t *testing.T) {
	findings := []Finding{{File: "f", Line: 1, Severity: Warning, Message: "m"}}
	assert.False(t, Failed(findings, false))
	assert.True(t, Failed(findings, true))
	assert.False(t, Failed(nil, true))
}

func TestUnreadableInput(t *testing.T) {
	_, err := Run([]string{"testdata/does-not-exist.yaml"}, Options{})
	require.Error(t, err)
	assert.True(t, IsUnreadable(err))
	assert.Contains(t, err.Error(), "does-not-exist.yaml")
}

func TestContradictions(t *testing.T) {
	m := func(t labels.MatchType, v string) *labels.Matcher { return labels.MustNewMatcher(t, "code", v) }
	for _, tc := range []struct {
		name string
		a, b *labels.Matcher
		want bool
	}{
		{"two different equalities contradict", m(labels.MatchEqual, "200"), m(labels.MatchEqual, "500"), true},
		{"an equality outside a regex contradicts it", m(labels.MatchEqual, "200"), m(labels.MatchRegexp, "5.."), true},
		{"an equality inside a regex does not", m(labels.MatchEqual, "503"), m(labels.MatchRegexp, "5.."), false},
		{"an equality and its negation contradict", m(labels.MatchNotEqual, "200"), m(labels.MatchEqual, "200"), true},
		{"an equality excluded by a negative regex contradicts it", m(labels.MatchEqual, "500"), m(labels.MatchNotRegexp, "5.."), true},
		{"two open regexes are left alone", m(labels.MatchRegexp, "2.."), m(labels.MatchRegexp, "5.."), false},
		{"a regex of literals outside another regex contradicts it", m(labels.MatchRegexp, "200|201"), m(labels.MatchRegexp, "5.."), true},
		{"a regex of literals with one inside another regex does not", m(labels.MatchRegexp, "200|503"), m(labels.MatchRegexp, "5.."), false},
		{"two disjoint literal sets contradict", m(labels.MatchRegexp, "(200|201)"), m(labels.MatchRegexp, "500|502"), true},
		{"a literal set all excluded by a negative regex contradicts it", m(labels.MatchNotRegexp, "2.."), m(labels.MatchRegexp, "200|204"), true},
		{"a case-insensitive literal is left alone", m(labels.MatchRegexp, "(?i)ok"), m(labels.MatchEqual, "OK"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, contradict(tc.a, tc.b))
		})
	}
}

func TestRegexCanMatch(t *testing.T) {
	for expr, want := range map[string]bool{
		"5..": true, "": true, ".*": true, "a|[^\\s\\S]": true,
		"[^\\s\\S]": false, "5[^\\s\\S]": false, "(?:[^\\x00-\\x{10FFFF}])+": false,
	} {
		assert.Equal(t, want, regexCanMatch(expr), expr)
	}
}

func TestCauseMetrics(t *testing.T) {
	for name, cause := range map[string]bool{
		"node_cpu_seconds_total": true, "container_memory_working_set_bytes": true, "process_cpu_seconds_total": true,
		"disk_used_bytes": true, "system_load1": true, "jvm_memory_used_bytes": true,
		"http_requests_total": false, "http_server_request_duration_seconds": false, "rpc_server_calls_total": false,
		"download_errors_total": false,
	} {
		assert.Equal(t, cause, causeRe.MatchString(name), name)
	}
}

func TestUnboundedGroupBy(t *testing.T) {
	for name, unbounded := range map[string]bool{
		"user_id": true, "trace_id": true, "client.ip": true, "url": true, "http.url": true, "session": true,
		"customer_id": true, "request_id": true, "body.user": true,
		"region": false, "http.route": false, "tier": false, "customer_tier": false, "code": false, "job": false,
	} {
		assert.Equal(t, unbounded, unboundedRe.MatchString(name), name)
	}
}

// An export-only SLO (a precomputed ratio, a gauge) has no event count:
// no min_events finding, whatever the loader left in MinEvents.
func TestExportOnlyHasNoMinEventsFinding(t *testing.T) {
	findings, err := Run([]string{"testdata/export-only.yaml"}, Options{AllowMissingRunbook: true})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, findings))
	assert.Contains(t, buf.String(), "can only be exported as Prometheus rules", "the file is export-only")
	assert.NotContains(t, buf.String(), "min_events")
}
