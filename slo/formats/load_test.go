package formats

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats/sloth"
	"github.com/obsd-dev/obsd/slo/match"
	"github.com/obsd-dev/obsd/slo/spec"
)

func TestLoadObsdFormat(t *testing.T) {
	slos, err := Load("testdata/obsd.yaml")
	require.NoError(t, err)
	require.Len(t, slos, 3)

	a := slos[0]
	assert.Equal(t, "checkout-availability", a.Name)
	assert.InDelta(t, 0.999, a.Objective, 1e-12)
	assert.Equal(t, 30*24*time.Hour, a.Period)
	assert.Equal(t, map[string]string{"team": "payments"}, a.Labels)
	require.NotNil(t, a.SLI.Metric)
	assert.Equal(t, "http_requests_total", a.SLI.Metric.Bad.MetricName)
	assert.True(t, match.Selector(&a.SLI.Metric.Bad, func(k string) string { return map[string]string{"job": "checkout", "code": "503"}[k] }))
	assert.False(t, match.Selector(&a.SLI.Metric.Bad, func(k string) string { return map[string]string{"job": "checkout", "code": "200"}[k] }))
	assert.Equal(t, "https://runbooks.example/checkout", a.Alerting.RunbookURL)
	assert.Equal(t, 20.0, a.Alerting.MinEvents)
	assert.Equal(t, 5*time.Minute, a.Alerting.Ticket.For)
	require.Len(t, a.Alerting.Page.Windows, 2)
	assert.InDelta(t, 14.4, a.Alerting.Page.Windows[0].Factor, 1e-9)
	assert.InDelta(t, 6, a.Alerting.Page.Windows[1].Factor, 1e-9)
	assert.InDelta(t, 3, a.Alerting.Ticket.Windows[0].Factor, 1e-9)
	assert.InDelta(t, 1, a.Alerting.Ticket.Windows[1].Factor, 1e-9)

	l := slos[1]
	require.NotNil(t, l.SLI.Latency)
	assert.Equal(t, 0.3, l.SLI.Latency.Threshold)
	assert.Equal(t, []string{"region"}, l.SLI.Latency.GroupBy)
	assert.Equal(t, []spec.WindowPair{{Long: time.Hour, Short: 5 * time.Minute, Factor: 10}}, l.Alerting.Page.Windows)
	assert.False(t, l.Alerting.Ticket.Enabled)
	assert.Equal(t, spec.DefaultMinEvents, int(l.Alerting.MinEvents))

	s := slos[2]
	require.NotNil(t, s.SLI.Spans)
	assert.Equal(t, "cart", s.SLI.Spans.Service)
	assert.True(t, s.SLI.Spans.Route.MatchString("/cart/items"))
	assert.False(t, s.SLI.Spans.Route.MatchString("/x/cart/items"), "regexes are fully anchored")
	assert.Equal(t, 500*time.Millisecond, s.SLI.Spans.DurationOver)
	// 28d period: page factor = 2% × 28d / 1h.
	assert.InDelta(t, 0.02*28*24, s.Alerting.Page.Windows[0].Factor, 1e-9)
}

var update = flag.Bool("update", false, "rewrite the golden files")

// The normalised model of every valid test file, as JSON.
func TestGoldenModel(t *testing.T) {
	for _, name := range []string{"obsd", "sloth"} {
		t.Run(name, func(t *testing.T) {
			slos, err := Load("testdata/" + name + ".yaml")
			require.NoError(t, err)
			got, err := json.MarshalIndent(slos, "", "  ")
			require.NoError(t, err)
			golden := "testdata/" + name + ".golden.json"
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o600))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

func TestLoadSloth(t *testing.T) {
	slos, err := Load("testdata/sloth.yaml")
	require.NoError(t, err)
	require.Len(t, slos, 2)
	a := slos[0]
	assert.Equal(t, "myservice-requests-availability", a.Name)
	assert.Equal(t, map[string]string{"owner": "myteam", "category": "availability"}, a.Labels)
	assert.Equal(t, "http_request_duration_seconds_count", a.SLI.Metric.Bad.MetricName)
	assert.Len(t, a.SLI.Metric.Bad.Matchers, 2)
	assert.Len(t, a.SLI.Metric.Total.Matchers, 1)
	assert.Empty(t, a.SLI.Metric.GroupBy)
	assert.Equal(t, "MyServiceHighErrorRate", a.Alerting.Name)
	assert.True(t, a.Alerting.Page.Enabled)
	assert.False(t, a.Alerting.Ticket.Enabled)
	assert.Equal(t, "https://runbooks.example/myservice", a.Alerting.RunbookURL)
	assert.Equal(t, []string{"route"}, slos[1].SLI.Metric.GroupBy)
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"every problem of every slo is reported with file, slo and field", "testdata/invalid.yaml", []string{
			`testdata/invalid.yaml: slo "bad one": 'name' must match`,
			`slo "bad one": 'service' is required`,
			`slo "bad one": 'labels' has an invalid label name "bad-label"`,
			`slo "bad one": 'objective' must be a percentage`,
			`slo "bad one": 'period' must be at least 1h`,
			`slo "bad one": 'sli.metric.bad' is not a valid series selector`,
			`slo "bad one": 'sli.metric.total' is required`,
			`slo "bad one": 'alerting.page.windows[0]' needs 1m <= 'short' < 'long'`,
			`slo "bad one": 'alerting.page.windows[0].burn_rate' must be greater than zero`,
			`slo "no-sli": 'sli' must have exactly one of 'metric', 'spans' or 'logs', got 0`,
		}},
		{"the engine refuses a sloth query shape it cannot count, naming the supported shapes", "testdata/sloth_unsupported.yaml", []string{
			`slo "svc-latency": 'sli.events' can only be exported as Prometheus rules (obsd slo rules), not evaluated in-process`,
			`'sli.events.error_query' has the shape "sum(rate(x_bucket{le=\"+Inf\"}[5m])) - sum(rate(x_bucket{le=\"0.3\"}[5m]))"`,
			`'sli.events.total_query' has the shape "avg(rate(x_count[5m]))"`,
			sloth.SupportedShapes,
		}},
		{"an unknown key is rejected", "testdata/unknown_key.yaml", []string{"field colour not found"}},
		{"a pattern that matches nothing is an error", "testdata/nope-*.yaml", []string{`pattern "testdata/nope-*.yaml" matches no file`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.file)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadGlobAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/obsd.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), data, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), data, 0o600))
	_, err = Load(filepath.Join(dir, "*.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'name' is already used in`)
	assert.Equal(t, 3, strings.Count(err.Error(), "already used"))
}

func TestParseRejectsOversizedAndUnknownVersion(t *testing.T) {
	_, err := Parse("big.yaml", make([]byte, spec.MaxFileSize+1))
	assert.ErrorContains(t, err, "larger than")
	_, err = Parse("v.yaml", []byte("version: openslo/v1\n"))
	assert.ErrorContains(t, err, `v.yaml: unknown SLO format: 'version' must be "obsd/v1" (obsd) or "prometheus/v1" (Sloth), or 'apiVersion' "sloth.slok.dev/v1" (Sloth's CRD), "pyrra.dev/v1alpha1" (Pyrra) or "openslo/v1" (OpenSLO)`)
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/obsd.yaml", "testdata/sloth.yaml", "testdata/invalid.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := Parse("fuzz.yaml", data)
		if err == nil && len(slos) == 0 {
			t.Fatal("no error and no slo")
		}
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("accepted objective %v", s.Objective)
			}
		}
	})
}
