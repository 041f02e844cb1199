// Package statuspage is a collector extension serving obsd's status page:
// SLOs sorted by error budget remaining with burn rates, time to
// exhaustion, alert state and runbook and dashboard links; an SLO detail
// page with server-rendered SLI and burn-rate charts and the alert
// history; a pipeline page with per-component rates from obsd's own
// self-metrics; and the JSON API behind them (/api/v1/slos,
// /api/v1/slos/{name}, /api/v1/alerts, /api/v1/pipeline). SLO connectors
// register with it through status.Registry; there is no global state.
package statuspage

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"
)

// Type is the component type named in configs: `extensions: statuspage:`.
var Type = component.MustNewType("statuspage")

const (
	// Stability is the stability of the extension.
	Stability = component.StabilityLevelAlpha
	// scopeName is the instrumentation scope of the component's metrics:
	// its import path.
	scopeName = "github.com/obsd-dev/obsd/extensions/statuspage"
)

const (
	defaultEndpoint   = "127.0.0.1:55680"
	defaultRefresh    = 5 * time.Second
	defaultMetricsURL = "http://127.0.0.1:8888/metrics"
)

// NewFactory returns the factory of the statuspage extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, Stability)
}

func createDefaultConfig() component.Config {
	srv := confighttp.NewDefaultServerConfig()
	srv.NetAddr.Endpoint = defaultEndpoint
	srv.ReadHeaderTimeout = 5 * time.Second
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 30 * time.Second
	return &Config{Server: srv, Refresh: defaultRefresh}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
