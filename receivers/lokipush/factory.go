package lokipush

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

const (
	// typeStr is the name used in configs: `receivers: lokipush:`.
	typeStr = "lokipush"
	// stability of the logs signal.
	stability = component.StabilityLevelAlpha

	defaultEndpoint           = "localhost:3100"
	defaultMaxRequestBodySize = 10 << 20 // 10 MiB, decompressed
	defaultRetryAfter         = time.Second
	defaultMaxStreamErrors    = 10
)

// componentType is the lokipush receiver's component.Type.
var componentType = component.MustNewType(typeStr)

// NewFactory returns the factory of the lokipush receiver, which accepts
// Loki push API requests (protobuf+snappy and JSON) and emits logs.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		componentType,
		createDefaultConfig,
		receiver.WithLogs(createLogs, stability),
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	server.MaxRequestBodySize = defaultMaxRequestBodySize
	return &Config{
		ServerConfig:    server,
		RetryAfter:      defaultRetryAfter,
		MaxStreamErrors: defaultMaxStreamErrors,
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(cfg.(*Config), set, next)
}
