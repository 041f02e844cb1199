package correlation

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// Type and stability of the component (no mdatagen here).
var (
	// Type is the component type named in configs.
	Type = component.MustNewType("correlation")
)

const (
	// LogsStability is the stability of the logs processor.
	LogsStability = component.StabilityLevelAlpha
	// TracesStability is the stability of the traces processor.
	TracesStability = component.StabilityLevelAlpha
	scopeName       = "github.com/obsd-dev/obsd/processors/correlation"
)

// factory holds the orphan indexes shared between the traces and logs
// instances of one configured component (same component.ID).
type factory struct {
	mu      sync.Mutex
	indexes map[component.ID]*sharedIndex
}

type sharedIndex struct {
	idx  *orphanIndex
	refs int
}

// NewFactory returns the factory of the correlation processor.
func NewFactory() processor.Factory {
	f := &factory{indexes: map[component.ID]*sharedIndex{}}
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
	idx := f.acquire(set.ID, oCfg)
	p, err := newLogsProcessor(set, oCfg, idx)
	if err != nil {
		f.release(set.ID, idx)
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithShutdown(func(context.Context) error {
			p.shutdown()
			f.release(set.ID, idx)
			return nil
		}))
}

func (f *factory) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	oCfg := cfg.(*Config)
	idx := f.acquire(set.ID, oCfg)
	p, err := newTracesProcessor(set, oCfg, idx)
	if err != nil {
		f.release(set.ID, idx)
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithShutdown(func(context.Context) error {
			f.release(set.ID, idx)
			return nil
		}))
}

// acquire returns the orphan index shared by every instance of id, or nil
// when orphan counting is off.
func (f *factory) acquire(id component.ID, cfg *Config) *orphanIndex {
	if !cfg.Orphans.Enabled {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.indexes[id]
	if !ok {
		s = &sharedIndex{idx: newOrphanIndex(cfg.Orphans.MaxEntries, cfg.Orphans.Window)}
		f.indexes[id] = s
	}
	s.refs++
	return s.idx
}

func (f *factory) release(id component.ID, idx *orphanIndex) {
	if idx == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.indexes[id]; ok && s.idx == idx {
		s.refs--
		if s.refs <= 0 {
			delete(f.indexes, id)
		}
	}
}
