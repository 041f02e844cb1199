package slo

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// sloConnector is one pipeline instance (traces, metrics or logs) of the
// connector; every instance of a component ID feeds the same engine. It
// passes nothing through: the connector emits only its own metrics.
type sloConnector struct {
	f *factory
	s *runner

	mu      sync.Mutex
	started bool
	stopped bool
}

// Start starts the shared evaluation loop with the first instance.
func (c *sloConnector) Start(ctx context.Context, host component.Host) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = true
	c.s.board.register(host)
	return c.s.start(ctx)
}

// Shutdown stops the loop and snapshots with the last instance.
func (c *sloConnector) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	last, err := c.s.shutdown(ctx, c.started)
	if last {
		c.s.board.deregister()
		c.f.release(c.s)
	}
	return err
}

// Capabilities: the connector only reads its input.
func (c *sloConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces counts the server and consumer spans of span SLIs.
func (c *sloConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	c.s.consumeTraces(td)
	return nil
}

// ConsumeMetrics counts the sums and histograms of metric SLIs.
func (c *sloConnector) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	c.s.consumeMetrics(md)
	return nil
}

// ConsumeLogs counts the log records of log SLIs.
func (c *sloConnector) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.s.consumeLogs(ld)
	return nil
}
