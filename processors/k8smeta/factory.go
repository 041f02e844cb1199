// Package k8smeta is obsd's minimal Kubernetes metadata processor: on a
// node agent it attaches k8s.node.name and, for the pod that sent the data,
// k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.container.name (when
// the pod has one container) and a service.name fallback, to traces,
// metrics and logs. Pods are found by an existing k8s.pod.uid or k8s.pod.ip
// resource attribute or by the sender's peer IP, in a cache of the node's
// pods polled from the API server or the kubelet. It stands in for the
// contrib k8sattributes processor, which does not resolve on obsd's
// release line.
package k8smeta

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/obsd-dev/obsd/internal/sharedcomponent"
)

// Type is the component type named in configs: `processors: k8smeta:`.
var Type = component.MustNewType("k8smeta")

const (
	// Stability is the stability of the traces, metrics and logs processors.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/processors/k8smeta"
)

// factory shares one pod source among the instances (one per pipeline and
// signal) of a configured component, so the node's pods are polled once.
type factory struct {
	sources *sharedcomponent.Map[component.ID, *source]
}

// NewFactory returns the factory of the k8smeta processor.
func NewFactory() processor.Factory {
	f := &factory{sources: sharedcomponent.NewMap[component.ID, *source]()}
	return processor.NewFactory(
		Type,
		createDefaultConfig,
		processor.WithTraces(f.createTraces, Stability),
		processor.WithMetrics(f.createMetrics, Stability),
		processor.WithLogs(f.createLogs, Stability),
	)
}

var processorCapabilities = consumer.Capabilities{MutatesData: true}

// sourceRef is one instance's reference to its component's pod source:
// the instance starts and shuts down through it.
type sourceRef = *sharedcomponent.Ref[component.ID, *source]

// newProcessor returns one signal's instance on the source of set.ID,
// creating the source with the first instance.
func (f *factory) newProcessor(set processor.Settings, cfg *Config, signal string) (*k8sProcessor, sourceRef, error) {
	src, err := f.sources.LoadOrStore(set.ID, func() (*source, error) {
		return newSource(cfg, set.TelemetrySettings)
	})
	if err != nil {
		return nil, nil, err
	}
	return newProcessor(cfg, src.Value(), signal), src, nil
}

// options are the processorhelper options of every instance.
func options(src sourceRef) []processorhelper.Option {
	return []processorhelper.Option{
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(src.Start), processorhelper.WithShutdown(src.Shutdown),
	}
}

func (f *factory) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, src, err := f.newProcessor(set, cfg.(*Config), "traces")
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces, options(src)...)
}

func (f *factory) createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	p, src, err := f.newProcessor(set, cfg.(*Config), "metrics")
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics, options(src)...)
}

func (f *factory) createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, src, err := f.newProcessor(set, cfg.(*Config), "logs")
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs, options(src)...)
}
