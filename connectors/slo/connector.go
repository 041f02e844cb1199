package slo

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/internal/sharedcomponent"
)

// sloConnector is one pipeline instance (traces, metrics or logs) of the
// connector; every instance of a component ID feeds the same engine. It
// passes nothing through: the connector emits only its own metrics.
type sloConnector struct {
	ref *sharedcomponent.Ref[component.ID, *runner]
}

// Start registers the status board with this instance's host and starts
// the shared runner with the first instance.
func (c *sloConnector) Start(ctx context.Context, host component.Host) error {
	c.ref.Value().board.register(host)
	return c.ref.Start(ctx, host)
}

// Shutdown drops this instance's reference; the last one stops the
// runner's loop, snapshots and stops alerting.
func (c *sloConnector) Shutdown(ctx context.Context) error { return c.ref.Shutdown(ctx) }

// Capabilities: the connector only reads its input.
func (c *sloConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces counts the server and consumer spans of span SLIs (and
// journals them first when 'storage' is set).
func (c *sloConnector) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	return c.ref.Value().countTraces(ctx, td, nil)
}

// ConsumeMetrics counts the sums and histograms of metric SLIs.
func (c *sloConnector) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return c.ref.Value().countMetrics(ctx, md, nil)
}

// ConsumeLogs counts the log records of log SLIs.
func (c *sloConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return c.ref.Value().countLogs(ctx, ld, nil)
}
