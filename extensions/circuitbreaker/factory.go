// Package circuitbreaker is a client middleware extension for exporters
// (`middlewares: [{id: circuit_breaker/<backend>}]` on an exporter's
// confighttp or configgrpc client settings), built on failsafe-go's circuit
// breaker. When a backend keeps failing (HTTP 5xx/429 or transport errors;
// gRPC Unavailable, DeadlineExceeded, ResourceExhausted, Internal, Unknown)
// the circuit opens and calls fail fast with a retryable error (a synthetic
// HTTP 503 with Retry-After, gRPC Unavailable with RetryInfo), so the
// exporter's queue keeps the data and retries later; after `delay` a few
// probes go through (half-open), and enough successes close the circuit.
//
// The breaker's state is exported as obsd_circuit_breaker_* metrics and
// reported as component status, so the health_check extension (with
// component status enabled) can say "not ready" while every circuit is open.
package circuitbreaker

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Type is the component type named in configs: `extensions: circuit_breaker/<name>:`.
var Type = component.MustNewType("circuit_breaker")

const (
	// Stability is the stability of the extension.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/extensions/circuitbreaker"
)

const (
	defaultFailureThreshold = 5
	defaultDelay            = 15 * time.Second
	defaultSuccessThreshold = 2
)

// NewFactory returns the factory of the circuit_breaker extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, Stability)
}

func createDefaultConfig() component.Config {
	return &Config{
		FailureThreshold: defaultFailureThreshold,
		Delay:            defaultDelay,
		SuccessThreshold: defaultSuccessThreshold,
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newBreaker(cfg.(*Config), set)
}
