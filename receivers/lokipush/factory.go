package lokipush

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

// Type is the component type named in configs: `receivers: lokipush:`.
var Type = component.MustNewType("lokipush")

const (
	// Stability is the stability of the logs receiver.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the receiver's metrics and
	// of every log record it produces: its import path.
	scopeName = "github.com/obsd-dev/obsd/receivers/lokipush"
)

const (
	defaultEndpoint           = "localhost:3100"
	defaultMaxRequestBodySize = 10 << 20 // 10 MiB, decompressed
	defaultRetryAfter         = time.Second
	defaultMaxStreamErrors    = 10
)

// NewFactory returns the factory of the lokipush receiver, which accepts
// Loki push API requests (protobuf+snappy and JSON) and emits logs.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		Type,
		createDefaultConfig,
		receiver.WithLogs(createLogs, Stability),
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
