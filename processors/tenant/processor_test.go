package tenant

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeAuth map[string]any

var _ client.AuthData = fakeAuth(nil)

func (a fakeAuth) GetAttribute(name string) any { return a[name] }
func (a fakeAuth) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	return names
}

func TestTenantOnLogs(t *testing.T) {
	withAuth := func(v any) context.Context {
		return client.NewContext(context.Background(), client.Info{Auth: fakeAuth{"tenant": v}})
	}
	withHeader := func(v string) context.Context {
		return client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(map[string][]string{"X-Scope-OrgID": {v}})})
	}
	tests := []struct {
		name    string
		cfg     Config
		ctx     context.Context
		preset  string // a resource attribute the client set itself
		want    string
		present bool
	}{
		{"the authenticated tenant is written to obsd.tenant", Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, withAuth("team-a"), "", "team-a", true},
		{"the authenticated tenant overrides one the client set on its resource", Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, withAuth("team-a"), "team-b", "team-a", true},
		{"without a tenant the client's own attribute is removed", Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, context.Background(), "team-b", "", false},
		{"without a tenant the default is written", Config{FromAuth: "tenant", Attribute: "obsd.tenant", Default: "anon"}, context.Background(), "", "anon", true},
		{"a header is read when there is no auth tenant", Config{FromAuth: "tenant", FromMetadata: "X-Scope-OrgID", Attribute: "obsd.tenant"}, withHeader("team-c"), "", "team-c", true},
		{"an unsafe header value is ignored", Config{FromMetadata: "X-Scope-OrgID", Attribute: "obsd.tenant", Default: "anon"}, withHeader("a|b"), "", "anon", true},
		{"a non-string auth attribute is ignored", Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, withAuth(42), "", "", false},
		{"the attribute name is configurable", Config{FromAuth: "tenant", Attribute: "loki.tenant"}, withAuth("team-a"), "", "team-a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := new(consumertest.LogsSink)
			cfg := tt.cfg
			require.NoError(t, cfg.Validate())
			p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(Type), &cfg, sink)
			require.NoError(t, err)
			require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
			defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
			ld := plog.NewLogs()
			for range 2 {
				rl := ld.ResourceLogs().AppendEmpty()
				if tt.preset != "" {
					rl.Resource().Attributes().PutStr(cfg.Attribute, tt.preset)
				}
				rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("x")
			}
			require.NoError(t, p.ConsumeLogs(tt.ctx, ld))
			got := sink.AllLogs()[0].ResourceLogs()
			for i := 0; i < got.Len(); i++ {
				v, ok := got.At(i).Resource().Attributes().Get(cfg.Attribute)
				assert.Equal(t, tt.present, ok)
				if ok {
					assert.Equal(t, tt.want, v.Str())
				}
			}
		})
	}
}

func TestTenantOnTracesAndMetrics(t *testing.T) {
	ctx := client.NewContext(context.Background(), client.Info{Auth: fakeAuth{"tenant": "team-a"}})
	cfg := createDefaultConfig()
	set := processortest.NewNopSettings(Type)

	ts := new(consumertest.TracesSink)
	tp, err := NewFactory().CreateTraces(context.Background(), set, cfg, ts)
	require.NoError(t, err)
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	require.NoError(t, tp.ConsumeTraces(ctx, td))
	v, _ := ts.AllTraces()[0].ResourceSpans().At(0).Resource().Attributes().Get("obsd.tenant")
	assert.Equal(t, "team-a", v.Str())

	ms := new(consumertest.MetricsSink)
	mp, err := NewFactory().CreateMetrics(context.Background(), set, cfg, ms)
	require.NoError(t, err)
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	require.NoError(t, mp.ConsumeMetrics(ctx, md))
	v, _ = ms.AllMetrics()[0].ResourceMetrics().At(0).Resource().Attributes().Get("obsd.tenant")
	assert.Equal(t, "team-a", v.Str())
}

func BenchmarkTenantLogs(b *testing.B) {
	ctx := client.NewContext(context.Background(), client.Info{Auth: fakeAuth{"tenant": "team-a"}})
	p, err := newProcessor(createDefaultConfig().(*Config), processortest.NewNopSettings(Type))
	require.NoError(b, err)
	ld := plog.NewLogs()
	for range 10 {
		ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.processLogs(ctx, ld)
	}
}

func TestRequestsAreCountedBySource(t *testing.T) {
	withAuth := client.NewContext(context.Background(), client.Info{Auth: fakeAuth{"tenant": "team-a"}})
	withHeader := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(map[string][]string{"X-Scope-OrgID": {"team-c"}})})
	tests := []struct {
		name string
		cfg  Config
		ctx  context.Context
		want string
	}{
		{"an authenticated tenant counts as auth", Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, withAuth, sourceAuth},
		{"a header tenant counts as metadata", Config{FromAuth: "tenant", FromMetadata: "X-Scope-OrgID", Attribute: "obsd.tenant"}, withHeader, sourceMetadata},
		{"the default tenant counts as default", Config{FromAuth: "tenant", Attribute: "obsd.tenant", Default: "anon"}, context.Background(), sourceDefault},
		{"no tenant at all counts as none", Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, context.Background(), sourceNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
			set := processortest.NewNopSettings(Type)
			set.TelemetrySettings = tel.NewTelemetrySettings()
			cfg := tt.cfg
			p, err := NewFactory().CreateLogs(context.Background(), set, &cfg, consumertest.NewNop())
			require.NoError(t, err)
			for range 3 {
				ld := plog.NewLogs()
				ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
				require.NoError(t, p.ConsumeLogs(tt.ctx, ld))
			}
			m, err := tel.GetMetric(metricRequests)
			require.NoError(t, err)
			got := map[string]int64{}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				src, _ := dp.Attributes.Value("source")
				got[src.AsString()] += dp.Value
			}
			assert.Equal(t, map[string]int64{tt.want: 3}, got, "three requests, one count each, under their source only")
		})
	}
}
