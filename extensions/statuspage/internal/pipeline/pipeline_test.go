package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func conf() map[string]any {
	return map[string]any{"service": map[string]any{
		"pipelines": map[string]any{
			"traces":   map[string]any{"receivers": []any{"otlp"}, "processors": []any{"memory_limiter"}, "exporters": []any{"otlp_grpc", "slo"}},
			"logs/raw": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"debug", 3}},
			"broken":   "not a map",
		},
		"telemetry": map[string]any{"metrics": map[string]any{"readers": []any{
			map[string]any{"periodic": map[string]any{}},
			map[string]any{"pull": map[string]any{"exporter": map[string]any{"prometheus": map[string]any{"host": "0.0.0.0", "port": 9464}}}},
		}}},
	}}
}

func TestFromConfig(t *testing.T) {
	got := FromConfig(conf())
	require.Len(t, got, 3)
	assert.Equal(t, Graph{Name: "broken", Signal: "broken", Receivers: []string{}, Processors: []string{}, Exporters: []string{}}, got[0],
		"a malformed pipeline is kept empty, never a panic")
	assert.Equal(t, Graph{Name: "logs/raw", Signal: "logs", Receivers: []string{"otlp"}, Processors: []string{}, Exporters: []string{"debug"}}, got[1])
	assert.Equal(t, []string{"otlp_grpc", "slo"}, got[2].Exporters)
	assert.Empty(t, FromConfig(map[string]any{"service": 1}))
}

func TestMetricsURL(t *testing.T) {
	tests := []struct {
		name string
		conf map[string]any
		want string
	}{
		{"the first pull reader is used; all interfaces are scraped on loopback", conf(), "http://127.0.0.1:9464/metrics"},
		{"no telemetry section gives nothing", map[string]any{}, ""},
		{"a port that is not a number is skipped", map[string]any{"service": map[string]any{"telemetry": map[string]any{"metrics": map[string]any{
			"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{"prometheus": map[string]any{"port": "x"}}}}}}}}}, ""},
		{"an IPv6 host is bracketed", map[string]any{"service": map[string]any{"telemetry": map[string]any{"metrics": map[string]any{
			"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{"prometheus": map[string]any{"host": "::1", "port": 8888}}}}}}}}},
			"http://[::1]:8888/metrics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, MetricsURL(tc.conf)) })
	}
}

func sample(t testing.TB, file string, at time.Time) *Sample {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	require.NoError(t, err)
	defer f.Close()
	s, err := Parse(f, at)
	require.NoError(t, err)
	return s
}

func TestBuildComputesRatesBetweenTwoScrapes(t *testing.T) {
	prev := sample(t, "scrape1.txt", t0)
	cur := sample(t, "scrape2.txt", t0.Add(10*time.Second))
	v := Build(FromConfig(conf()), prev, cur)
	require.Len(t, v.Pipelines, 3)
	tr := v.Pipelines[2]
	require.Equal(t, "traces", tr.Name)
	rcv := tr.Receivers[0]
	require.NotNil(t, rcv.Accepted)
	assert.InDelta(t, 20, *rcv.Accepted, 1e-9, "200 more spans over both transports in 10s")
	assert.InDelta(t, 0, *rcv.Refused, 1e-9)
	assert.Nil(t, rcv.Failed, "a counter the scrape lacks is unknown, not zero")
	assert.InDelta(t, 20, *tr.Processors[0].Incoming, 1e-9, "only the traces signal of the processor counts")
	exp := tr.Exporters[0]
	assert.InDelta(t, 20, *exp.Sent, 1e-9)
	assert.InDelta(t, 20, *exp.QueueSize, 1e-9)
	assert.InDelta(t, 1000, *exp.QueueCapacity, 1e-9)
	assert.Nil(t, tr.Exporters[1].Sent, "a connector has no exporter metrics")
	assert.Nil(t, tr.Exporters[1].Connects, "slo feeds no pipeline of this config: not drawn as a connector")
	assert.Equal(t, []Breaker{{Name: "circuitbreaker/otlp", State: "open"}}, v.Breakers)
	assert.Equal(t, []RateLimited{{Client: "tenant-a", Tier: "default", Refused: 30, RefusedPerSecond: 2}}, v.RateLimited,
		"only clients with refusals, with their refusal rate")
	assert.Equal(t, []Shed{{Signal: "logs", Reason: "memory", Items: 25, PerSecond: 2}}, v.Shed)
	assert.Equal(t, []Coverage{{Service: "checkout", Ratio: 0.75}}, v.Coverage)
}

func TestAConnectorNamesThePipelinesItJoins(t *testing.T) {
	graphs := []Graph{
		{Name: "traces", Signal: "traces", Receivers: []string{"otlp"}, Exporters: []string{"slo", "otlp_grpc"}},
		{Name: "metrics/slo", Signal: "metrics", Receivers: []string{"slo"}, Exporters: []string{"otlp_grpc"}},
	}
	v := Build(graphs, nil, nil)
	assert.Equal(t, []string{"metrics/slo"}, v.Pipelines[0].Exporters[0].Connects)
	assert.Nil(t, v.Pipelines[0].Exporters[1].Connects, "an exporter is not a connector")
	assert.Equal(t, []string{"traces"}, v.Pipelines[1].Receivers[0].Connects)
}

func TestBuildWithOneScrapeHasGaugesButNoRates(t *testing.T) {
	v := Build(FromConfig(conf()), nil, sample(t, "scrape1.txt", t0))
	exp := v.Pipelines[2].Exporters[0]
	assert.Nil(t, exp.Sent)
	assert.InDelta(t, 10, *exp.QueueSize, 1e-9)
	assert.Len(t, v.Breakers, 1)
}

func TestACounterResetCountsFromZero(t *testing.T) {
	prev := sample(t, "scrape2.txt", t0)
	cur := sample(t, "scrape1.txt", t0.Add(10*time.Second))
	v := Build(FromConfig(conf()), prev, cur)
	assert.InDelta(t, 14, *v.Pipelines[2].Exporters[0].Sent, 1e-9, "340 → 140 is a restart: 140 new in 10s")
}

func TestBadExpositionIsAnError(t *testing.T) {
	_, err := Parse(strings.NewReader("this is { not prometheus"), t0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "could not parse the self-metrics")
	_, err = Parse(strings.NewReader("# TYPE A0 counter\n{}"), t0)
	require.Error(t, err, "input that makes expfmt panic is an error, not a crash")
}

func FuzzBuild(f *testing.F) {
	for _, name := range []string{"scrape1.txt", "scrape2.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(string(data))
	}
	graphs := FromConfig(conf())
	prev := sample(f, "scrape1.txt", t0)
	f.Fuzz(func(t *testing.T, text string) {
		cur, err := Parse(strings.NewReader(text), t0.Add(time.Second))
		if err != nil {
			return
		}
		v := Build(graphs, prev, cur)
		if len(v.Pipelines) != len(graphs) {
			t.Fatalf("%d pipelines for %d graphs", len(v.Pipelines), len(graphs))
		}
	})
}
