package loki

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Type is the component type named in configs: `exporters: loki:`.
var Type = component.MustNewType("loki")

const (
	// Stability is the stability of the logs exporter.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/exporters/loki"
)

const (
	// PushPath is Loki's push endpoint path.
	PushPath = "/loki/api/v1/push"

	defaultTimeout = 30 * time.Second
	// defaultMaxRequestSize keeps a push (uncompressed) at 4 MiB: far below
	// Loki's and VictoriaLogs' own limits (100 MiB, 64 MiB), and about the
	// 1 MiB compressed that a reverse proxy's default body limit allows.
	defaultMaxRequestSize = 4 << 20
)

// DefaultLabels are the attribute keys promoted to stream labels by default.
var DefaultLabels = []string{"service.name", "service.namespace", "k8s.namespace.name", "level"}

// NewFactory returns the factory of the loki exporter, which pushes logs to
// Loki's push API as snappy-compressed protobuf.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		Type,
		createDefaultConfig,
		exporter.WithLogs(createLogs, Stability),
	)
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = defaultTimeout
	return &Config{
		ClientConfig:     client,
		QueueConfig:      configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig:      configretry.NewDefaultBackOffConfig(),
		Labels:           append([]string(nil), DefaultLabels...),
		TenantAttributes: []string{ObsdTenantAttribute, TenantAttribute},
		MaxRequestSize:   defaultMaxRequestSize,
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: c.ClientConfig.Timeout}),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
