package statuspage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/goleak"

	sloconnector "github.com/obsd-dev/obsd/connectors/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startPage starts the extension on a free loopback port with a fake
// self-metrics endpoint.
func startPage(t *testing.T, metrics http.Handler) *statusPage {
	t.Helper()
	srv := httptest.NewServer(metrics)
	t.Cleanup(srv.Close)
	cfg := createDefaultConfig().(*Config)
	cfg.Server.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Refresh = 50 * time.Millisecond
	cfg.MetricsURL = srv.URL + "/metrics"
	cfg.GrafanaURL = "https://grafana.example"
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), cfg)
	require.NoError(t, err)
	e := ext.(*statusPage)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.Shutdown(context.Background())) })
	return e
}

func get(t *testing.T, e *statusPage, path string, into any) int {
	t.Helper()
	e.mu.Lock()
	addr := e.addr
	e.mu.Unlock()
	resp, err := http.Get("http://" + addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if into != nil {
		require.NoError(t, json.Unmarshal(body, into), string(body))
	}
	return resp.StatusCode
}

const exposition = `# TYPE otelcol_receiver_accepted_spans counter
otelcol_receiver_accepted_spans{receiver="otlp",transport="grpc"} %d
`

func TestThePipelinePageReadsTheConfigAndScrapesRates(t *testing.T) {
	n := 0
	e := startPage(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n += 100 // served sequentially by the scrape loop
		fmt.Fprintf(w, exposition, n)
	}))
	conf := confmap.NewFromStringMap(map[string]any{"service": map[string]any{"pipelines": map[string]any{
		"traces": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"debug"}}}}})
	require.NoError(t, e.NotifyConfigSnapshot(context.Background(), extensioncapabilities.NewConfigSnapshot(conf, conf)))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var v struct {
			Pipelines []struct {
				Name      string
				Receivers []struct {
					ID       string
					Accepted *float64 `json:"acceptedPerSecond"`
				}
			}
		}
		get(t, e, "/api/v1/pipeline", &v)
		if assert.Len(c, v.Pipelines, 1) && assert.Len(c, v.Pipelines[0].Receivers, 1) {
			assert.NotNil(c, v.Pipelines[0].Receivers[0].Accepted, "a rate once two scrapes exist")
		}
	}, 10*time.Second, 20*time.Millisecond)
}

func TestAFailingScrapeIsReportedOnThePage(t *testing.T) {
	e := startPage(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var v struct{ Error string }
		get(t, e, "/api/v1/pipeline", &v)
		assert.Contains(c, v.Error, "503")
	}, 10*time.Second, 20*time.Millisecond)
}

type fixedSource status.Snapshot

func (f fixedSource) Snapshot() status.Snapshot { return status.Snapshot(f) }

func TestRegistrationsReplaceAndUnregisterOnlyThemselves(t *testing.T) {
	e := startPage(t, http.NotFoundHandler())
	first := e.RegisterSLOSource("slo", fixedSource{SLOs: []status.SLO{{Name: "a", State: contract.StateInactive}}})
	second := e.RegisterSLOSource("slo", fixedSource{SLOs: []status.SLO{{Name: "b", State: contract.StateInactive}}})
	var got struct{ SLOs []status.SLO }
	get(t, e, "/api/v1/slos", &got)
	require.Len(t, got.SLOs, 1)
	assert.Equal(t, "b", got.SLOs[0].Name, "the second registration under one id replaces the first")
	first()
	get(t, e, "/api/v1/slos", &got)
	assert.Len(t, got.SLOs, 1, "a stale unregister does not remove the newer source")
	second()
	get(t, e, "/api/v1/slos", &got)
	assert.Empty(t, got.SLOs)
}

type host map[component.ID]component.Component

func (h host) GetExtensions() map[component.ID]component.Component { return h }

func span(ss ptrace.SpanSlice, failed bool, end time.Time) {
	s := ss.AppendEmpty()
	s.SetKind(ptrace.SpanKindServer)
	s.SetName("GET /")
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-time.Millisecond)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	if failed {
		s.Status().SetCode(ptrace.StatusCodeError)
	}
}

func traces(svc string, good, bad int, end time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", svc)
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	for range good {
		span(ss, false, end)
	}
	for range bad {
		span(ss, true, end)
	}
	return td
}

// TestTheAPIServesARunningSLOEngine runs the real slo connector, started
// with the extension in its host, on known traffic: checkout fails every
// request (its page fires), search fails 1% (no alert).
func TestTheAPIServesARunningSLOEngine(t *testing.T) {
	e := startPage(t, http.NotFoundHandler())
	dir := t.TempDir()
	f := sloconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*sloconnector.Config)
	cfg.SLOs = []string{"testdata/slos.yaml"}
	cfg.EvaluationInterval = 20 * time.Millisecond
	cfg.State.Directory = dir
	require.NoError(t, cfg.Validate())
	set := connectortest.NewNopSettings(sloconnector.Type)
	conn, err := f.CreateTracesToMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), host{component.NewID(Type): e}))
	t.Cleanup(func() { require.NoError(t, conn.Shutdown(context.Background())) })

	now := time.Now()
	require.NoError(t, conn.ConsumeTraces(context.Background(), traces("checkout", 0, 20, now)))
	require.NoError(t, conn.ConsumeTraces(context.Background(), traces("search", 99, 1, now)))

	var got struct{ SLOs []status.SLO }
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		get(t, e, "/api/v1/slos", &got)
		if assert.Len(c, got.SLOs, 2) {
			assert.Equal(c, contract.StateFiring, got.SLOs[0].State)
		}
	}, 10*time.Second, 20*time.Millisecond)
	first, second := got.SLOs[0], got.SLOs[1]
	assert.Equal(t, "checkout-availability", first.Name, "the firing SLO is listed first")
	assert.Equal(t, "https://runbooks.example/checkout", first.RunbookURL)
	assert.Equal(t, "https://grafana.example/d/obsd-slo-checkout-availability/slo-checkout-availability?var-slo=checkout-availability", first.DashboardURL)
	assert.InDelta(t, 100, first.Windows[0].BurnRate, 1e-9, "every event bad at a 1% budget is a 100× burn")
	assert.InDelta(t, -99, first.BudgetRemaining, 1e-9)
	assert.Equal(t, "search-availability", second.Name)
	assert.Equal(t, contract.StateInactive, second.State)
	assert.InDelta(t, 1, second.Windows[0].BurnRate, 1e-9, "1% bad at a 1% budget burns at exactly 1×")
	assert.InDelta(t, 0, second.BudgetRemaining, 1e-9)

	var detail struct{ Instances []status.SLO }
	assert.Equal(t, http.StatusOK, get(t, e, "/api/v1/slos/checkout-availability", &detail))
	require.Len(t, detail.Instances, 1)
	assert.NotEmpty(t, detail.Instances[0].History)

	var alerts struct{ Alerts []status.AlertEvent }
	get(t, e, "/api/v1/alerts", &alerts)
	require.NotEmpty(t, alerts.Alerts)
	assert.Equal(t, "checkout-availability", alerts.Alerts[0].SLO)
	assert.Equal(t, "firing", alerts.Alerts[0].State)
}
