package loki

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// reply is one scripted answer of the fake Loki; status 0 accepts the push.
type reply struct {
	status     int
	retryAfter string
}

// fakeLoki is a Loki push endpoint on loopback that decodes with Loki's own
// push types. It answers from a per-tenant script, then 204, and keeps the
// lines of the pushes it accepted.
type fakeLoki struct {
	srv *httptest.Server

	mu       sync.Mutex
	script   map[string][]reply // by tenant
	attempts map[string][]time.Time
	accepted map[string][]string // tenant -> lines, accepted pushes only
	streams  []push.Stream       // accepted streams, all tenants
	// maxBody, when set, refuses pushes whose uncompressed body is over it
	// with a 400, as VictoriaLogs does over -loki.maxRequestSize.
	maxBody int
	sizes   []int // uncompressed sizes of the accepted pushes
}

func newFakeLoki(t *testing.T, script map[string][]reply) *fakeLoki {
	f := &fakeLoki{script: script, attempts: map[string][]time.Time{}, accepted: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLoki) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != PushPath || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "wrong path or content type", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tenant := r.Header.Get("X-Scope-OrgID")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[tenant] = append(f.attempts[tenant], time.Now())
	if f.maxBody > 0 && len(raw) > f.maxBody {
		http.Error(w, fmt.Sprintf("too big data size exceeding -loki.maxRequestSize=%d bytes", f.maxBody), http.StatusBadRequest)
		return
	}
	if s := f.script[tenant]; len(s) > 0 && s[0].status != 0 {
		f.script[tenant] = s[1:]
		if s[0].retryAfter != "" {
			w.Header().Set("Retry-After", s[0].retryAfter)
		}
		http.Error(w, "scripted failure", s[0].status)
		return
	}
	for _, st := range req.Streams {
		for _, e := range st.Entries {
			f.accepted[tenant] = append(f.accepted[tenant], e.Line)
		}
	}
	if s := f.script[tenant]; len(s) > 0 {
		f.script[tenant] = s[1:]
	}
	f.streams = append(f.streams, req.Streams...)
	f.sizes = append(f.sizes, len(raw))
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeLoki) lines(tenant string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.accepted[tenant]...)
}

func (f *fakeLoki) attemptTimes(tenant string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.attempts[tenant]...)
}

// logsFor builds n lines per tenant, one resource per tenant.
func logsFor(n int, tenants ...string) (plog.Logs, map[string][]string) {
	ld := plog.NewLogs()
	want := map[string][]string{}
	for _, tenant := range tenants {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "svc")
		if tenant != "" {
			rl.Resource().Attributes().PutStr(TenantAttribute, tenant)
		}
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range n {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * time.Millisecond)))
			line := fmt.Sprintf("%s line %d", tenant, i)
			lr.Body().SetStr(line)
			want[tenant] = append(want[tenant], line)
		}
	}
	return ld, want
}

type exporterHarness struct {
	exp exporter.Logs
	tel *componenttest.Telemetry
}

func startExporter(t *testing.T, url string, mod func(*Config)) *exporterHarness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = url
	cfg.ClientConfig.Timeout = 5 * time.Second
	cfg.RetryConfig.InitialInterval = 5 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 20 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 30 * time.Second
	cfg.QueueConfig = configoptional.None[exporterhelperQueue]()
	if mod != nil {
		mod(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	h := &exporterHarness{exp: exp, tel: tel}
	t.Cleanup(func() {
		require.NoError(t, exp.Shutdown(context.Background()))
		require.NoError(t, tel.Shutdown(context.Background()))
	})
	return h
}

func (h *exporterHarness) permanentlyRejected(t *testing.T) int64 {
	m, err := h.tel.GetMetric(permanentMetricName)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

func TestFailingLokiStillGetsEveryLineExactlyOnce(t *testing.T) {
	tests := []struct {
		name   string
		script []reply
	}{
		{"500s then 429s, then recovery", []reply{{status: 500}, {status: 500}, {status: 429}, {status: 429}}},
		{"a 503 with Retry-After, then recovery", []reply{{status: 503, retryAfter: "0"}}},
		{"a 502 and a 504, then recovery", []reply{{status: 502}, {status: 504}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loki := newFakeLoki(t, map[string][]reply{"team-a": tt.script})
			h := startExporter(t, loki.srv.URL, nil)
			ld, want := logsFor(50, "team-a")
			require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
			assert.Equal(t, want["team-a"], loki.lines("team-a"))
			assert.Len(t, loki.attemptTimes("team-a"), len(tt.script)+1)
		})
	}
}

func TestQueuedExportDeliversAfterFailures(t *testing.T) {
	loki := newFakeLoki(t, map[string][]reply{"": {{status: 500}, {status: 429}}})
	h := startExporter(t, loki.srv.URL, func(c *Config) {
		c.QueueConfig = configoptional.Some(exporterhelperNewQueue())
	})
	ld, want := logsFor(20, "")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	require.Eventually(t, func() bool { return len(loki.lines("")) == len(want[""]) }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, want[""], loki.lines(""))
}

func TestRetryAfterIsHonoured(t *testing.T) {
	loki := newFakeLoki(t, map[string][]reply{"": {{status: 429, retryAfter: "1"}}})
	h := startExporter(t, loki.srv.URL, nil)
	ld, want := logsFor(3, "")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, want[""], loki.lines(""))
	at := loki.attemptTimes("")
	require.Len(t, at, 2)
	// A lower bound only: the retry may not come before Loki asked.
	assert.GreaterOrEqual(t, at[1].Sub(at[0]), 900*time.Millisecond)
}

func TestClientErrorsArePermanentAndCounted(t *testing.T) {
	for _, status := range []int{400, 401, 404, 413} {
		t.Run(fmt.Sprintf("a %d is not retried and its lines are counted as dropped", status), func(t *testing.T) {
			loki := newFakeLoki(t, map[string][]reply{"": {{status: status}, {status: status}}})
			h := startExporter(t, loki.srv.URL, nil)
			ld, _ := logsFor(7, "")
			err := h.exp.ConsumeLogs(context.Background(), ld)
			require.Error(t, err)
			assert.True(t, consumererror.IsPermanent(err), "%v", err)
			assert.Len(t, loki.attemptTimes(""), 1, "a permanent error is not retried")
			assert.Empty(t, loki.lines(""))
			assert.Equal(t, int64(7), h.permanentlyRejected(t))
		})
	}
}

func TestOnlyTheFailedTenantIsRetried(t *testing.T) {
	loki := newFakeLoki(t, map[string][]reply{"team-b": {{status: 503}, {status: 500}}})
	h := startExporter(t, loki.srv.URL, nil)
	ld, want := logsFor(10, "team-a", "team-b")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, want["team-a"], loki.lines("team-a"), "team-a is pushed once, not again with team-b's retries")
	assert.Len(t, loki.attemptTimes("team-a"), 1)
	assert.Equal(t, want["team-b"], loki.lines("team-b"))
	assert.Len(t, loki.attemptTimes("team-b"), 3)
}

func TestConfiguredTenantOverridesTheAttribute(t *testing.T) {
	loki := newFakeLoki(t, nil)
	h := startExporter(t, loki.srv.URL, func(c *Config) { c.TenantID = "fixed" })
	ld, _ := logsFor(2, "team-a", "team-b")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.Len(t, loki.lines("fixed"), 4)
	assert.Empty(t, loki.lines("team-a"))
}

func TestPushedStreamsCarryLabelsAndMetadata(t *testing.T) {
	loki := newFakeLoki(t, nil)
	h := startExporter(t, loki.srv.URL, nil)
	ld := oneRecord(map[string]any{"service.name": "checkout", "k8s.namespace.name": "shop"}, func(lr plog.LogRecord) {
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.SetTraceID(traceID)
		lr.SetSpanID(spanID)
	})
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	loki.mu.Lock()
	defer loki.mu.Unlock()
	require.Len(t, loki.streams, 1)
	assert.Equal(t, `{k8s_namespace_name="shop", level="error", service_name="checkout"}`, loki.streams[0].Labels)
	e := loki.streams[0].Entries[0]
	assert.Equal(t, t0.UnixNano(), e.Timestamp.UnixNano())
	assert.Equal(t, push.LabelsAdapter{{Name: "trace_id", Value: "0af7651916cd43dd8448eb211c80319c"}, {Name: "span_id", Value: "b7ad6b7169203331"}}, e.StructuredMetadata)
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{"delay-seconds are seconds", "7", 7 * time.Second, true},
		{"an HTTP date is the time until then", now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second, true},
		{"a past HTTP date is no delay", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"an empty header is no hint", "", 0, false},
		{"garbage is no hint", "soon", 0, false},
		{"a negative number is no hint", "-3", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := retryAfter(tt.value, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, d)
		})
	}
}

type exporterhelperQueue = exporterhelper.QueueBatchConfig

func exporterhelperNewQueue() exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	q.NumConsumers = 1
	return q
}

func TestTenantHeaderPerStream(t *testing.T) {
	loki := newFakeLoki(t, nil)
	h := startExporter(t, loki.srv.URL, func(c *Config) { c.DefaultTenant = "anon" })
	ld := plog.NewLogs()
	for _, r := range []struct{ attr, tenant, line string }{
		{ObsdTenantAttribute, "cert-a", "from a"},
		{TenantAttribute, "pusher-b", "from b"},
		{"", "", "from nobody"},
	} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "svc")
		if r.attr != "" {
			rl.Resource().Attributes().PutStr(r.attr, r.tenant)
		}
		rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(r.line)
	}
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, []string{"from a"}, loki.lines("cert-a"), "obsd.tenant is sent as X-Scope-OrgID")
	assert.Equal(t, []string{"from b"}, loki.lines("pusher-b"), "loki.tenant is sent when obsd.tenant is missing")
	assert.Equal(t, []string{"from nobody"}, loki.lines("anon"), "default_tenant for the rest")
	for _, s := range loki.streams {
		assert.NotContains(t, s.Labels, "tenant", "the tenant is a header, never a label")
		for _, md := range s.Entries[0].StructuredMetadata {
			assert.NotContains(t, md.Name, "tenant", "the tenant is never structured metadata")
		}
	}
}

func TestAPermanentlyRefusedTenantDoesNotMakeAnotherTenantsRetryPermanent(t *testing.T) {
	loki := newFakeLoki(t, map[string][]reply{"team-a": {{status: 400}}, "team-b": {{status: 503}, {status: 500}}})
	h := startExporter(t, loki.srv.URL, nil)
	ld, want := logsFor(10, "team-a", "team-b")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld), "team-b's retries succeed")
	assert.Empty(t, loki.lines("team-a"))
	assert.Len(t, loki.attemptTimes("team-a"), 1, "the refused tenant is not retried")
	assert.Equal(t, int64(10), h.permanentlyRejected(t))
	assert.Equal(t, want["team-b"], loki.lines("team-b"), "the retryable tenant is retried until delivered")
	assert.Len(t, loki.attemptTimes("team-b"), 3)
}

func TestTenantMapSendsTheBackendsTenantIDs(t *testing.T) {
	loki := newFakeLoki(t, nil)
	h := startExporter(t, loki.srv.URL, func(c *Config) {
		c.TenantMap = map[string]string{"team-a": "12", "team-b": "12", "anon": "0:7"}
		c.DefaultTenant = "anon"
	})
	ld, want := logsFor(3, "team-a", "team-b", "team-c", "")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.ElementsMatch(t, append(want["team-a"], want["team-b"]...), loki.lines("12"), "two names mapped to one id share it")
	assert.Len(t, loki.attemptTimes("12"), 1, "one push per id, not per name")
	assert.Equal(t, want["team-c"], loki.lines("team-c"), "an unmapped name is sent as it is")
	assert.Equal(t, want[""], loki.lines("0:7"), "default_tenant is mapped too")
}

// oversizeBatch is 40 small lines with one line of 3 KiB in the middle;
// it returns the small lines.
func oversizeBatch() (plog.Logs, []string) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	var small []string
	for i := range 41 {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * time.Millisecond)))
		if i == 20 {
			lr.Body().SetStr(strings.Repeat("x", 3<<10))
			continue
		}
		line := fmt.Sprintf("small line %d", i)
		lr.Body().SetStr(line)
		small = append(small, line)
	}
	return ld, small
}

func TestARecordTooLargeForTheBackendIsRefusedAloneNotWithItsBatch(t *testing.T) {
	loki := newFakeLoki(t, nil)
	loki.maxBody = 2 << 10
	h := startExporter(t, loki.srv.URL, func(c *Config) { c.MaxRequestSize = 1 << 10 })
	ld, want := oversizeBatch()
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld),
		"a batch partly delivered is a success, as an OTLP partial success is")
	assert.Len(t, loki.attemptTimes(""), len(loki.sizes)+1, "the refused push is not retried")
	assert.ElementsMatch(t, want, loki.lines(""), "every small line arrives, once")
	assert.Equal(t, int64(1), h.permanentlyRejected(t), "only the big record is counted as refused")
	loki.mu.Lock()
	defer loki.mu.Unlock()
	for _, n := range loki.sizes {
		assert.LessOrEqual(t, n, 1<<10, "every push stays within max_request_size")
	}
}

func TestWithoutALimitTheWholeBatchIsRefused(t *testing.T) {
	loki := newFakeLoki(t, nil)
	loki.maxBody = 2 << 10
	h := startExporter(t, loki.srv.URL, func(c *Config) { c.MaxRequestSize = 0 })
	ld, _ := oversizeBatch()
	err := h.exp.ConsumeLogs(context.Background(), ld)
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "nothing delivered: the batch failed permanently: %v", err)
	assert.Empty(t, loki.lines(""), "max_request_size 0 sends the batch as one push, refused whole")
	assert.Equal(t, int64(41), h.permanentlyRejected(t))
}

func TestARetryableFailureMidSplitResendsOnlyWhatWasNotDelivered(t *testing.T) {
	// The first push is accepted, the second fails twice, then all pass.
	loki := newFakeLoki(t, map[string][]reply{"": {{status: 0}, {status: 503}, {status: 500}}})
	h := startExporter(t, loki.srv.URL, func(c *Config) { c.MaxRequestSize = 256 })
	ld, want := logsFor(40, "")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.ElementsMatch(t, want[""], loki.lines(""), "every line exactly once: the delivered push is not resent")
	assert.Greater(t, len(loki.attemptTimes("")), 3, "the batch went in several pushes")
}

func TestABatchPartlyDeliveredIsASuccessAndTheRefusedPartIsCounted(t *testing.T) {
	loki := newFakeLoki(t, map[string][]reply{"team-b": {{status: 400}}})
	h := startExporter(t, loki.srv.URL, nil)
	ld, want := logsFor(6, "team-a", "team-b")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, want["team-a"], loki.lines("team-a"))
	assert.Len(t, loki.attemptTimes("team-b"), 1, "the refused tenant is not retried")
	assert.Equal(t, int64(6), h.permanentlyRejected(t))
}
