package reloadguard

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
)

// The reload counter is exported with obsd's own telemetry (the :8888
// /metrics endpoint) with no extra config: the reload guard is a confmap
// converter and has no TelemetrySettings, so the collector's telemetry
// factory is wrapped and every meter provider it creates (one per
// service, so one per applied config) observes the guard's cumulative
// counts.
const (
	// scopeName is the instrumentation scope of the reload counter: this
	// package's import path.
	scopeName           = "github.com/obsd-dev/obsd/internal/reloadguard"
	metricConfigReloads = "obsd_config_reloads_total"
)

// WithReloadMetrics returns factories whose telemetry factory registers
// obsd_config_reloads_total{result="applied|refused"} on each meter
// provider it creates.
func (g *Guard) WithReloadMetrics(factories func() (otelcol.Factories, error)) func() (otelcol.Factories, error) {
	return func() (otelcol.Factories, error) {
		f, err := factories()
		if err != nil || f.Telemetry == nil {
			return f, err
		}
		f.Telemetry = reloadTelemetryFactory{Factory: f.Telemetry, guard: g}
		return f, nil
	}
}

// reloadTelemetryFactory is the collector's telemetry factory, with the
// reload counter added to its meter providers.
type reloadTelemetryFactory struct {
	telemetry.Factory
	guard *Guard
}

func (f reloadTelemetryFactory) CreateMeterProvider(ctx context.Context, set telemetry.MeterSettings, cfg component.Config) (telemetry.MeterProvider, error) {
	mp, err := f.Factory.CreateMeterProvider(ctx, set, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := f.guard.registerMetrics(mp); err != nil {
		return nil, fmt.Errorf("could not register %s: %w", metricConfigReloads, err)
	}
	return mp, nil
}

// registerMetrics registers the reload counter on mp; it reads the
// guard's counts at each collection.
func (g *Guard) registerMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	b := instruments.NewBuilder(mp, scopeName)
	reloads := b.Int64ObservableCounter(metricConfigReloads,
		metric.WithDescription("Config reloads (SIGHUP or a watched source) since start, by result: applied (valid, now in force) or refused (invalid; obsd kept the previous config)."),
		metric.WithUnit("{reload}"))
	applied := instruments.ObserveOptions(attribute.String("result", "applied"))
	refused := instruments.ObserveOptions(attribute.String("result", "refused"))
	reg := b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(reloads, g.applied.Load(), applied...)
		o.ObserveInt64(reloads, g.refused.Load(), refused...)
		return nil
	}, reloads)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return reg, nil
}
