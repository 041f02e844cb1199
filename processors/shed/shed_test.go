package shed

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"
)

// mixedLogs is one record of each kind the levels tell apart.
var mixedLogs = []logSpec{
	{name: "trace", severity: plog.SeverityNumberTrace},
	{name: "debug", severity: plog.SeverityNumberDebug4},
	{name: "debug-text", text: "DEBUG"},
	{name: "info", severity: plog.SeverityNumberInfo},
	{name: "no-severity"},
	{name: "warn", severity: plog.SeverityNumberWarn},
	{name: "error", severity: plog.SeverityNumberError},
	{name: "error-text", text: "error"},
	{name: "fatal", severity: plog.SeverityNumberFatal},
	{name: "debug-slo", severity: plog.SeverityNumberDebug, attrs: map[string]string{"slo.counted": "true"}},
	{name: "info-checkout", severity: plog.SeverityNumberInfo, attrs: map[string]string{"service.name": "checkout"}},
}

func protectConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Protect = []MatcherConfig{{Key: "slo.counted"}, {Key: "service.name", Values: []string{"checkout", "payments"}}}
	return cfg
}

func TestLogsShedByLevel(t *testing.T) {
	cases := []struct {
		name   string
		level  Level
		kept   []string
		counts map[string]int64
	}{
		{
			name:   "without pressure nothing is shed",
			level:  LevelNone,
			kept:   []string{"trace", "debug", "debug-text", "info", "no-severity", "warn", "error", "error-text", "fatal", "debug-slo", "info-checkout"},
			counts: map[string]int64{},
		},
		{
			name:   "under light pressure TRACE and DEBUG logs are shed, unless protected",
			level:  LevelDebugLogs,
			kept:   []string{"info", "no-severity", "warn", "error", "error-text", "fatal", "debug-slo", "info-checkout"},
			counts: map[string]int64{"logs/debug_log": 3},
		},
		{
			name:   "under more pressure INFO logs and logs without severity go too",
			level:  LevelInfoLogs,
			kept:   []string{"warn", "error", "error-text", "fatal", "debug-slo", "info-checkout"},
			counts: map[string]int64{"logs/debug_log": 3, "logs/info_log": 2},
		},
		{
			name:   "at the highest level WARN and above are still never shed",
			level:  LevelUnsampledSpans,
			kept:   []string{"warn", "error", "error-text", "fatal", "debug-slo", "info-checkout"},
			counts: map[string]int64{"logs/debug_log": 3, "logs/info_log": 2},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, reader := newTestShedder(t, protectConfig(), signalLogs, tc.level)
			out, err := s.processLogs(context.Background(), makeLogs(nil, mixedLogs...))
			require.NoError(t, err)
			assert.Equal(t, tc.kept, logNames(out))
			assert.Equal(t, tc.counts, shedCounts(t, reader))
			assert.Equal(t, int64(tc.level), gaugeInt(t, reader, metricLevel))
		})
	}
}

func TestAProtectedResourceKeepsAllItsLogs(t *testing.T) {
	s, reader := newTestShedder(t, protectConfig(), signalLogs, LevelInfoLogs)
	out, err := s.processLogs(context.Background(), makeLogs(map[string]string{"service.name": "payments"}, mixedLogs...))
	require.NoError(t, err)
	assert.Len(t, logNames(out), len(mixedLogs))
	assert.Empty(t, shedCounts(t, reader))
}

func TestMatchersCompareStringValuesOnly(t *testing.T) {
	s, _ := newTestShedder(t, protectConfig(), signalLogs, LevelInfoLogs)
	ld := makeLogs(nil, logSpec{name: "info", severity: plog.SeverityNumberInfo})
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutInt("service.name", 7)
	out, err := s.processLogs(context.Background(), ld)
	assert.ErrorIs(t, err, processorhelper.ErrSkipProcessingData, "an int never equals a listed string")
	assert.Empty(t, logNames(out))
}

func TestTracesShedByLevel(t *testing.T) {
	spans := []spanSpec{
		{name: "sampled", sampled: true},
		{name: "unsampled"},
		{name: "unsampled-error", err: true},
		{name: "unsampled-slo", attrs: map[string]string{"slo.counted": "true"}},
	}
	cases := []struct {
		name   string
		level  Level
		kept   []string
		counts map[string]int64
	}{
		{"below the span level no span is shed", LevelInfoLogs, []string{"sampled", "unsampled", "unsampled-error", "unsampled-slo"}, map[string]int64{}},
		{"at the span level unsampled spans are shed, not errors nor protected ones", LevelUnsampledSpans, []string{"sampled", "unsampled-error", "unsampled-slo"}, map[string]int64{"traces/unsampled_span": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, reader := newTestShedder(t, protectConfig(), signalTraces, tc.level)
			out, err := s.processTraces(context.Background(), makeTraces(nil, spans...))
			require.NoError(t, err)
			assert.Equal(t, tc.kept, spanNames(out))
			assert.Equal(t, tc.counts, shedCounts(t, reader))
		})
	}
}

func TestABatchShedWhollyIsNotForwarded(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Levels = LevelsConfig{DebugLogs: 1e-9, InfoLogs: 1e-9, UnsampledSpans: 1e-9} // always under pressure
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeLogs(context.Background(), makeLogs(nil, logSpec{name: "d", severity: plog.SeverityNumberDebug})))
	assert.Empty(t, sink.AllLogs(), "nothing left, nothing forwarded, no error to the sender")
	require.NoError(t, p.ConsumeLogs(context.Background(), makeLogs(nil, logSpec{name: "e", severity: plog.SeverityNumberError})))
	assert.Equal(t, 1, sink.LogRecordCount())
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestFactoryLifecycle(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "shed", f.Type().String())
	tsink := new(consumertest.TracesSink)
	tp, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(Type), f.CreateDefaultConfig(), tsink)
	require.NoError(t, err)
	require.NoError(t, tp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, tp.ConsumeTraces(context.Background(), makeTraces(nil, spanSpec{name: "x"})))
	assert.Equal(t, 1, tsink.SpanCount(), "a test process is far below 400 MiB: nothing shed")
	require.NoError(t, tp.Shutdown(context.Background()))
}
