package shed

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixedRatio is a ratioSource at a set pressure.
type fixedRatio float64

var _ ratioSource = fixedRatio(0)

func (f fixedRatio) Ratio() float64 { return float64(f) }

// ratioFor is a pressure that puts the default thresholds at level l.
func ratioFor(l Level) fixedRatio {
	return [...]fixedRatio{0.1, 0.65, 0.72, 0.9}[l]
}

// newTestShedder builds a shedder at a fixed level with a manual metric
// reader.
func newTestShedder(t testing.TB, cfg *Config, signal string, l Level) (*shedder, *sdkmetric.ManualReader) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	set.MeterProvider = mp
	s, err := newShedder(set, cfg, signal)
	require.NoError(t, err)
	s.source = ratioFor(l)
	s.coolDown = 0
	t.Cleanup(func() {
		require.NoError(t, s.shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	return s, reader
}

// shedCounts reads obsd_shed_items_total as "signal/reason" -> value.
func shedCounts(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != metricShed {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				sig, _ := dp.Attributes.Value(attribute.Key("signal"))
				r, _ := dp.Attributes.Value(attribute.Key("reason"))
				out[sig.AsString()+"/"+r.AsString()] += dp.Value
			}
		}
	}
	return out
}

// gaugeInt reads an int64 gauge's only point.
func gaugeInt(t *testing.T, reader *sdkmetric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == name {
				require.Len(t, g.DataPoints, 1)
				return g.DataPoints[0].Value
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// logSpec is one log record of a test batch; its body names it.
type logSpec struct {
	name     string
	severity plog.SeverityNumber
	text     string
	attrs    map[string]string
}

// makeLogs builds one resource (with resAttrs) holding the records.
func makeLogs(resAttrs map[string]string, specs ...logSpec) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	for k, v := range resAttrs {
		rl.Resource().Attributes().PutStr(k, v)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	for _, s := range specs {
		lr := sl.LogRecords().AppendEmpty()
		lr.Body().SetStr(s.name)
		lr.SetSeverityNumber(s.severity)
		lr.SetSeverityText(s.text)
		for k, v := range s.attrs {
			lr.Attributes().PutStr(k, v)
		}
	}
	return ld
}

// logNames lists the bodies of the records left.
func logNames(ld plog.Logs) []string {
	var out []string
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out = append(out, lrs.At(k).Body().Str())
			}
		}
	}
	return out
}

// spanSpec is one span of a test batch.
type spanSpec struct {
	name    string
	sampled bool
	err     bool
	attrs   map[string]string
}

func makeTraces(resAttrs map[string]string, specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	for k, v := range resAttrs {
		rs.Resource().Attributes().PutStr(k, v)
	}
	ss := rs.ScopeSpans().AppendEmpty()
	for _, s := range specs {
		sp := ss.Spans().AppendEmpty()
		sp.SetName(s.name)
		if s.sampled {
			sp.SetFlags(0x101)
		} else {
			sp.SetFlags(0x100)
		}
		if s.err {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
		for k, v := range s.attrs {
			sp.Attributes().PutStr(k, v)
		}
	}
	return td
}

func spanNames(td ptrace.Traces) []string {
	var out []string
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		sss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sps := sss.At(j).Spans()
			for k := 0; k < sps.Len(); k++ {
				out = append(out, sps.At(k).Name())
			}
		}
	}
	return out
}
