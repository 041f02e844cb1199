// Package ratelimit is a collector extension that OTLP/HTTP, OTLP/gRPC and
// other confighttp/configgrpc servers use as server middleware
// (`middlewares: [{id: ratelimit}]`): token buckets per client (tenant
// header, authenticated subject or peer IP), named tiers, a global bucket,
// refusals that clients retry (HTTP 429 with Retry-After, gRPC
// RESOURCE_EXHAUSTED with RetryInfo) and per-client counters with bounded
// label values.
package ratelimit

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Type is the component type named in configs: `extensions: ratelimit:`.
var Type = component.MustNewType("ratelimit")

const (
	// Stability is the stability of the extension.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/extensions/ratelimit"
)

const (
	defaultKey             = "peer"
	defaultRate            = 100
	defaultBurst           = 200
	defaultMaxClients      = 10000
	defaultMaxLabelClients = 100
)

// NewFactory returns the factory of the ratelimit extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, Stability)
}

func createDefaultConfig() component.Config {
	return &Config{
		Key:             defaultKey,
		Default:         LimitConfig{Rate: defaultRate, Burst: defaultBurst},
		MaxClients:      defaultMaxClients,
		MaxLabelClients: defaultMaxLabelClients,
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
