// Package tenant is a processor that puts the tenant of each request on its
// data: it reads the tenant from the authenticated client (client.Info auth
// attribute, e.g. set by tls_identity from a client certificate) or from a
// request header, and writes it to a resource attribute (`obsd.tenant` by
// default) that the loki exporter sends as X-Scope-OrgID. It must run where
// the request context is still there: in the pipeline before any
// asynchronous step (no batch processor in front of it).
package tenant

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// Type is the component type named in configs: `processors: tenant:`.
var Type = component.MustNewType("tenant")

const (
	// Stability is the stability of the traces, metrics and logs processors.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/processors/tenant"
)

// DefaultAttribute is the resource attribute written by default.
const DefaultAttribute = "obsd.tenant"

var capabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns the factory of the tenant processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithTraces(createTraces, Stability),
		processor.WithLogs(createLogs, Stability),
		processor.WithMetrics(createMetrics, Stability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{FromAuth: "tenant", Attribute: DefaultAttribute}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newProcessor(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces, processorhelper.WithCapabilities(capabilities))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newProcessor(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs, processorhelper.WithCapabilities(capabilities))
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	p, err := newProcessor(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics, processorhelper.WithCapabilities(capabilities))
}
