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

const (
	// typeStr is the name used in configs: `extensions: statuspage:`.
	typeStr = "statuspage"
	// stability of the extension.
	stability = component.StabilityLevelAlpha

	defaultEndpoint   = "127.0.0.1:55680"
	defaultRefresh    = 5 * time.Second
	defaultMetricsURL = "http://127.0.0.1:8888/metrics"
)

// componentType is the statuspage extension's component.Type.
var componentType = component.MustNewType(typeStr)

// NewFactory returns the factory of the statuspage extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(componentType, createDefaultConfig, create, stability)
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
