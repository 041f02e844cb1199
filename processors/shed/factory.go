// Package shed is a processor that drops data by priority when the agent
// is under memory pressure, so that what matters keeps flowing: first
// TRACE/DEBUG logs, then INFO logs, then spans of unsampled traces. It never
// sheds logs at WARN or above, spans with an error status, or anything a
// `protect` matcher names. Everything shed is counted by reason.
//
// Put it after the fan-out to the slo connector (in the pipeline that
// forwards to the backends), so SLO numbers are computed on the full
// stream.
package shed

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// Type is the component type named in configs: `processors: shed:`.
var Type = component.MustNewType("shed")

const (
	// Stability is the stability of the logs and traces processors.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/processors/shed"
)

const (
	defaultMemoryLimitMiB = 400
	defaultCheckInterval  = 100 * time.Millisecond
	defaultCoolDown       = 5 * time.Second
)

var capabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns the factory of the shed processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithLogs(createLogs, Stability),
		processor.WithTraces(createTraces, Stability))
}

func createDefaultConfig() component.Config {
	return &Config{
		MemoryLimitMiB: defaultMemoryLimitMiB,
		CheckInterval:  defaultCheckInterval,
		CoolDown:       defaultCoolDown,
		Levels:         LevelsConfig{DebugLogs: 0.6, InfoLogs: 0.7, UnsampledSpans: 0.75},
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	s, err := newShedder(set, cfg.(*Config), signalLogs)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, s.processLogs,
		processorhelper.WithCapabilities(capabilities),
		processorhelper.WithShutdown(s.shutdown))
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	s, err := newShedder(set, cfg.(*Config), signalTraces)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, s.processTraces,
		processorhelper.WithCapabilities(capabilities),
		processorhelper.WithShutdown(s.shutdown))
}
