package ratelimit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig is a config keyed by the X-Scope-OrgID header, one request per
// two seconds per client, and a gold tier for "vip".
func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Key = "header:X-Scope-OrgID"
	cfg.Default = LimitConfig{Rate: 0.5, Burst: 1}
	cfg.Tiers = map[string]TierConfig{"gold": {LimitConfig: LimitConfig{Rate: 1000, Burst: 1000}, Keys: []string{"vip"}}}
	return cfg
}

// newTestExtension builds and starts the extension with a manual metric
// reader, and shuts it down at cleanup.
func newTestExtension(t *testing.T, cfg *Config) (*rateLimit, *sdkmetric.ManualReader) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	set := extensiontest.NewNopSettings(Type)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	set.MeterProvider = mp
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, ext.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	return ext.(*rateLimit), reader
}

// extensionsOf is the extensions map a host hands to ToServer.
func extensionsOf(ext component.Component) map[component.ID]component.Component {
	return map[component.ID]component.Component{component.NewID(Type): ext}
}

// requestCounts reads obsd_ratelimit_requests_total as
// "client/tier/outcome" -> value.
func requestCounts(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != metricRequests {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				c, _ := dp.Attributes.Value(labelClient)
				tier, _ := dp.Attributes.Value(labelTier)
				o, _ := dp.Attributes.Value(labelOutcome)
				out[c.AsString()+"/"+tier.AsString()+"/"+o.AsString()] += dp.Value
			}
		}
	}
	return out
}

// gauge reads an int64 gauge or sum without attributes.
func gaugeValue(t *testing.T, reader *sdkmetric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				return d.DataPoints[0].Value
			case metricdata.Sum[int64]:
				return d.DataPoints[0].Value
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// fakeAuth is client.AuthData with fixed attributes.
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
