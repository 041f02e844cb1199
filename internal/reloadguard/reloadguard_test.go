package reloadguard

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.uber.org/zap"
)

func TestReloadGuard(t *testing.T) {
	invalid := errors.New("pipeline names an undefined exporter")
	validateByKey := func(_ context.Context, conf *confmap.Conf) error {
		if conf.IsSet("bad") {
			return invalid
		}
		return nil
	}
	cases := []struct {
		name      string
		loads     []map[string]any
		wantFinal map[string]any
		refused   int
		applied   int
	}{
		{
			name:      "the first config passes untouched, even an invalid one (the collector reports it)",
			loads:     []map[string]any{{"bad": true}},
			wantFinal: map[string]any{"bad": true},
		},
		{
			name:      "an invalid reload is replaced by the config in force",
			loads:     []map[string]any{{"a": 1}, {"a": 2, "bad": true}},
			wantFinal: map[string]any{"a": 1},
			refused:   1,
		},
		{
			name:      "a reload identical to the config in force is not counted as applied",
			loads:     []map[string]any{{"a": 1}, {"a": 1}, {"a": 2}, {"a": 2}},
			wantFinal: map[string]any{"a": 2},
			applied:   1,
		},
		{
			name:      "a valid reload is applied and becomes the fallback",
			loads:     []map[string]any{{"a": 1}, {"a": 2}, {"a": 3, "bad": true}},
			wantFinal: map[string]any{"a": 2},
			refused:   1,
			applied:   1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := New(validateByKey)
			conv := g.ConverterFactory().Create(confmap.ConverterSettings{Logger: zap.NewNop()})
			var conf *confmap.Conf
			for _, load := range tc.loads {
				conf = confmap.NewFromStringMap(load)
				if err := conv.Convert(context.Background(), conf); err != nil {
					t.Fatalf("Convert: %v", err)
				}
			}
			got := conf.ToStringMap()
			if len(got) != len(tc.wantFinal) {
				t.Fatalf("final config %v, want %v", got, tc.wantFinal)
			}
			for k, v := range tc.wantFinal {
				if got[k] != v {
					t.Errorf("final config %v, want %v", got, tc.wantFinal)
				}
			}
			if g.refused.Load() != int64(tc.refused) || g.applied.Load() != int64(tc.applied) {
				t.Errorf("refused %d applied %d, want %d and %d", g.refused.Load(), g.applied.Load(), tc.refused, tc.applied)
			}
		})
	}
}

func TestDryRunValidatorUsesTheCollectorsChecks(t *testing.T) {
	validate := DryRunValidator(testSettings)
	good := confmap.NewFromStringMap(map[string]any{
		"receivers": map[string]any{"otlp": map[string]any{"protocols": map[string]any{"http": map[string]any{"endpoint": "127.0.0.1:0"}}}},
		"exporters": map[string]any{"debug": map[string]any{}},
		"service":   map[string]any{"pipelines": map[string]any{"traces": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"debug"}}}},
	})
	if err := validate(context.Background(), good); err != nil {
		t.Fatalf("a valid config was refused: %v", err)
	}
	bad := confmap.NewFromStringMap(map[string]any{
		"receivers": map[string]any{"otlp": map[string]any{"protocols": map[string]any{"http": map[string]any{"endpoint": "127.0.0.1:0"}}}},
		"exporters": map[string]any{"debug": map[string]any{}},
		"service":   map[string]any{"pipelines": map[string]any{"traces": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"otlp_grpc/nowhere"}}}},
	})
	if err := validate(context.Background(), bad); err == nil {
		t.Fatal("a pipeline naming an undefined exporter was accepted")
	}
}

// testSettings is a small distribution: the OTLP receiver, the debug
// exporter and the collector's telemetry.
func testSettings() otelcol.CollectorSettings {
	return otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "obsd-test", Version: "test"},
		Factories: testFactories,
	}
}

func testFactories() (otelcol.Factories, error) {
	receivers, err := otelcol.MakeFactoryMap(otlpreceiver.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	exporters, err := otelcol.MakeFactoryMap(debugexporter.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	return otelcol.Factories{Telemetry: otelconftelemetry.NewFactory(), Receivers: receivers, Exporters: exporters}, nil
}
