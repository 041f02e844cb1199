package k8smeta

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recordedPodList is a PodList as the API server and the kubelet serve it.
const recordedPodList = "internal/pods/testdata/podlist.json"

// fakeKube serves a recorded PodList on loopback, as the API server (with
// a node field selector) or the kubelet would, and records what it was asked.
type fakeKube struct {
	srv      *httptest.Server
	mu       sync.Mutex
	body     []byte
	status   int
	requests atomic.Int64
	lastURL  string
	lastAuth string
}

func newFakeKube(t *testing.T) *fakeKube {
	t.Helper()
	body, err := os.ReadFile(recordedPodList)
	require.NoError(t, err)
	k := &fakeKube{body: body, status: http.StatusOK}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.lastURL, k.lastAuth = r.URL.String(), r.Header.Get("Authorization")
		status, body := k.status, k.body
		k.mu.Unlock()
		k.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *fakeKube) serve(status int, body []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.status, k.body = status, body
}

func (k *fakeKube) last() (string, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastURL, k.lastAuth
}

// testConfig polls the fake API server quickly with a token file.
func testConfig(t *testing.T, k *fakeKube) *Config {
	t.Helper()
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("s3cr3t\n"), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.NodeName = "node-a"
	cfg.Source.Endpoint = k.srv.URL
	cfg.Source.CAFile = ""
	cfg.Source.TokenFile = token
	cfg.Source.PollInterval = 20 * time.Millisecond
	return cfg
}

// harness runs the three signals' processors of one component.
type harness struct {
	t       *testing.T
	tel     *componenttest.Telemetry
	traces  processor.Traces
	metrics processor.Metrics
	logs    processor.Logs
	tsink   *consumertest.TracesSink
	msink   *consumertest.MetricsSink
	lsink   *consumertest.LogsSink
}

func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	h := &harness{t: t, tel: componenttest.NewTelemetry(), tsink: new(consumertest.TracesSink), msink: new(consumertest.MetricsSink), lsink: new(consumertest.LogsSink)}
	f := NewFactory()
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	ctx := context.Background()
	var err error
	h.traces, err = f.CreateTraces(ctx, set, cfg, h.tsink)
	require.NoError(t, err)
	h.metrics, err = f.CreateMetrics(ctx, set, cfg, h.msink)
	require.NoError(t, err)
	h.logs, err = f.CreateLogs(ctx, set, cfg, h.lsink)
	require.NoError(t, err)
	host := componenttest.NewNopHost()
	require.NoError(t, h.traces.Start(ctx, host))
	require.NoError(t, h.metrics.Start(ctx, host))
	require.NoError(t, h.logs.Start(ctx, host))
	t.Cleanup(func() {
		require.NoError(t, h.traces.Shutdown(ctx))
		require.NoError(t, h.metrics.Shutdown(ctx))
		require.NoError(t, h.logs.Shutdown(ctx))
		require.NoError(t, h.tel.Shutdown(ctx))
	})
	return h
}

// counter sums the points of an int64 counter whose labels include want.
func (h *harness) counter(name string, want map[string]string) int64 {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(h.t, ok, "%s is not an int64 sum", name)
	var total int64
	for _, dp := range sum.DataPoints {
		match := true
		for k, v := range want {
			if got, ok := dp.Attributes.Value(attribute.Key(k)); !ok || got.AsString() != v {
				match = false
			}
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

func (h *harness) gauge(name string) int64 {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return -1
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(h.t, ok, "%s is not an int64 gauge", name)
	for _, dp := range g.DataPoints {
		if dp.Attributes.Len() == 0 {
			return dp.Value
		}
	}
	return -1
}
