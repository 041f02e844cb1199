package correlation

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/obsd-dev/obsd/internal/sharedcomponent"
)

// Type is the component type named in configs: `processors: correlation:`.
var Type = component.MustNewType("correlation")

const (
	// LogsStability is the stability of the logs processor.
	LogsStability = component.StabilityLevelAlpha
	// TracesStability is the stability of the traces processor.
	TracesStability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/processors/correlation"
)

// factory shares the orphan index between the traces and logs instances
// of one configured component (same component.ID).
type factory struct {
	orphans *sharedcomponent.Map[component.ID, *sharedOrphans]
}

// sharedOrphans is what the instances of one component ID share: the
// orphan index, nil when orphan counting is off. It has no goroutine or
// resource to start or stop.
type sharedOrphans struct {
	index *orphanIndex
	component.StartFunc
	component.ShutdownFunc
}

// NewFactory returns the factory of the correlation processor.
func NewFactory() processor.Factory {
	f := &factory{orphans: sharedcomponent.NewMap[component.ID, *sharedOrphans]()}
	return processor.NewFactory(
		Type,
		createDefaultConfig,
		processor.WithLogs(f.createLogs, LogsStability),
		processor.WithTraces(f.createTraces, TracesStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Keys:                 defaultKeys(),
		Sources:              []string{SourceAttributes, SourceBody},
		CorrelationKeys:      []string{"request_id", "x-request-id", "correlation_id", "http.request.header.x-request-id"},
		CorrelationAttribute: "correlation.id",
		DefaultPolicy:        PolicyConfig{Name: "default", Action: ActionObserve},
		Route:                RouteConfig{Attribute: "obsd.route", Value: "quarantine"},
		Orphans:              OrphansConfig{Window: 60 * time.Second, MaxEntries: 100_000},
		MaxServices:          200,
	}
}

// defaultKeys is the default lookup order: W3C first, then the common
// logging-library field names, then the propagation headers.
func defaultKeys() []KeyConfig {
	return []KeyConfig{
		{Format: FormatTraceparent, Trace: "traceparent", CaseInsensitive: true},
		{Format: FormatHex, Trace: "trace_id", Span: "span_id"},
		{Format: FormatHex, Trace: "traceId", Span: "spanId"},
		{Format: FormatHex, Trace: "traceID", Span: "spanID"},
		{Format: FormatHex, Trace: "trace.id", Span: "span.id"},
		{Format: FormatHex, Trace: "otelTraceID", Span: "otelSpanID"},
		{Format: FormatHex, Trace: "trace.trace", Span: "trace.span"},
		{Format: FormatJaeger, Trace: "uber-trace-id", CaseInsensitive: true},
		{Format: FormatB3, Trace: "b3", CaseInsensitive: true},
		{Format: FormatHex, Trace: "X-B3-TraceId", Span: "X-B3-SpanId", CaseInsensitive: true},
		{Format: FormatDatadog, Trace: "dd.trace_id", Span: "dd.span_id"},
	}
}

var processorCapabilities = consumer.Capabilities{MutatesData: true}

func (f *factory) createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	oCfg := cfg.(*Config)
	orphans, err := f.acquire(set.ID, oCfg)
	if err != nil {
		return nil, err
	}
	p, err := newLogsProcessor(set, oCfg, orphans.Value().index)
	if err != nil {
		return nil, errors.Join(err, orphans.Shutdown(ctx))
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithShutdown(func(ctx context.Context) error {
			p.shutdown()
			return orphans.Shutdown(ctx)
		}))
}

func (f *factory) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	oCfg := cfg.(*Config)
	orphans, err := f.acquire(set.ID, oCfg)
	if err != nil {
		return nil, err
	}
	p, err := newTracesProcessor(set, oCfg, orphans.Value().index)
	if err != nil {
		return nil, errors.Join(err, orphans.Shutdown(ctx))
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithShutdown(orphans.Shutdown))
}

// acquire returns a reference to the orphans shared by every instance of
// id; the first instance creates the index (none when orphan counting is
// off).
func (f *factory) acquire(id component.ID, cfg *Config) (*sharedcomponent.Ref[component.ID, *sharedOrphans], error) {
	return f.orphans.LoadOrStore(id, func() (*sharedOrphans, error) {
		if !cfg.Orphans.Enabled {
			return &sharedOrphans{}, nil
		}
		return &sharedOrphans{index: newOrphanIndex(cfg.Orphans.MaxEntries, cfg.Orphans.Window)}, nil
	})
}
