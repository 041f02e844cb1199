package slo

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"

	"github.com/obsd-dev/obsd/internal/sharedcomponent"
)

// The slo processor counts spans, log records and metric points in line,
// into the engine of the slo connector of the same ID, and passes them on
// untouched. A connector sits behind its pipeline's fan-out, and the
// collector deep-copies every batch that fans out to a consumer that
// mutates data (an exporter's batching queue, shed) next to one that only
// reads (the connector): in line, no batch is shared and none is copied.
// Placed before shed, the SLOs still see everything; and since it counts
// a request only once the rest of the pipeline accepted it, its journal
// record rides on the exporter queue's put (count.go).

// NewFactories returns the slo connector's factory and the slo processor's,
// sharing one engine per component ID: processor slo/x counts into the
// engine of connector slo/x.
func NewFactories() (connector.Factory, processor.Factory) {
	f := newFactory(time.Now)
	return f.build(), f.buildProcessor()
}

func (f *factory) buildProcessor() processor.Factory {
	return processor.NewFactory(
		Type,
		func() component.Config { return &ProcessorConfig{} },
		processor.WithTraces(f.createTracesProcessor, Stability),
		processor.WithLogs(f.createLogsProcessor, Stability),
		processor.WithMetrics(f.createMetricsProcessor, Stability),
	)
}

func (f *factory) createTracesProcessor(_ context.Context, set processor.Settings, _ component.Config, next consumer.Traces) (processor.Traces, error) {
	return &tracesProcessor{sloProcessor: sloProcessor{runners: f.runners, id: set.ID}, next: next}, nil
}

func (f *factory) createLogsProcessor(_ context.Context, set processor.Settings, _ component.Config, next consumer.Logs) (processor.Logs, error) {
	return &logsProcessor{sloProcessor: sloProcessor{runners: f.runners, id: set.ID}, next: next}, nil
}

func (f *factory) createMetricsProcessor(_ context.Context, set processor.Settings, _ component.Config, next consumer.Metrics) (processor.Metrics, error) {
	return &metricsProcessor{sloProcessor: sloProcessor{runners: f.runners, id: set.ID}, next: next}, nil
}

// sloProcessor is what the processor instances of every signal share: a
// reference to the runner of the connector of the same ID, taken at Start
// (every component exists by then).
type sloProcessor struct {
	runners *sharedcomponent.Map[component.ID, *runner]
	id      component.ID
	ref     atomic.Pointer[sharedcomponent.Ref[component.ID, *runner]]
}

// Start takes a reference to the connector's runner and starts it if the
// connector has not yet.
func (p *sloProcessor) Start(ctx context.Context, host component.Host) error {
	ref, ok := p.runners.Acquire(p.id)
	if !ok {
		return fmt.Errorf("processor %s counts into connector %s, which no pipeline uses: declare connectors::%s and use it as an exporter of a pipeline (e.g. the metrics one) and as the receiver of the pipeline its obsd_slo_* metrics go to", p.id, p.id, p.id)
	}
	p.ref.Store(ref)
	ref.Value().board.register(host)
	return ref.Start(ctx, host)
}

// Shutdown drops the reference; the last one stops the runner.
func (p *sloProcessor) Shutdown(ctx context.Context) error {
	if ref := p.ref.Load(); ref != nil {
		return ref.Shutdown(ctx)
	}
	return nil
}

// Capabilities: the processor only reads what it passes on.
func (p *sloProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

type tracesProcessor struct {
	sloProcessor
	next consumer.Traces
}

// ConsumeTraces counts the span SLIs of td once the rest of the pipeline
// accepted it.
func (p *tracesProcessor) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	return p.ref.Load().Value().countTraces(ctx, td, p.next)
}

type logsProcessor struct {
	sloProcessor
	next consumer.Logs
}

// ConsumeLogs counts the log SLIs of ld once the rest of the pipeline
// accepted it.
func (p *logsProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return p.ref.Load().Value().countLogs(ctx, ld, p.next)
}

type metricsProcessor struct {
	sloProcessor
	next consumer.Metrics
}

// ConsumeMetrics counts the metric SLIs of md once the rest of the
// pipeline accepted it.
func (p *metricsProcessor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return p.ref.Load().Value().countMetrics(ctx, md, p.next)
}
