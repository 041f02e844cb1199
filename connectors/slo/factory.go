// Package slo is the collector glue of obsd's SLO engine (package
// github.com/obsd-dev/obsd/slo, imported here as sloengine): the `slo`
// connector counts good and bad events from spans, metrics and logs into
// sloengine.Engine, evaluates it on an interval, emits the obsd_slo_*
// metrics of the SLO contract to its metrics pipelines and to obsd's own
// /metrics, hands the engine's alert transitions to alerting.Manager, and
// snapshots the state across restarts.
package slo

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/obsd-dev/obsd/internal/sharedcomponent"
)

// Type is the component type named in configs.
var Type = component.MustNewType("slo")

const (
	// Stability of every pipeline pair of the connector.
	Stability = component.StabilityLevelAlpha
	scopeName = "github.com/obsd-dev/obsd/connectors/slo"
)

// factory holds one runner (engine) per component ID, shared by the
// traces, metrics and logs instances created for that ID.
type factory struct {
	now     func() time.Time
	runners *sharedcomponent.Map[component.ID, *runner]
}

// NewFactory returns the factory of the slo connector.
func NewFactory() connector.Factory { return newFactory(time.Now).build() }

func newFactory(now func() time.Time) *factory {
	return &factory{now: now, runners: sharedcomponent.NewMap[component.ID, *runner]()}
}

func (f *factory) build() connector.Factory {
	return connector.NewFactory(
		Type,
		createDefaultConfig,
		connector.WithTracesToMetrics(f.createTracesToMetrics, Stability),
		connector.WithMetricsToMetrics(f.createMetricsToMetrics, Stability),
		connector.WithLogsToMetrics(f.createLogsToMetrics, Stability),
	)
}

func (f *factory) createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return f.acquire(set, cfg.(*Config), next)
}

func (f *factory) createMetricsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Metrics, error) {
	return f.acquire(set, cfg.(*Config), next)
}

func (f *factory) createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	return f.acquire(set, cfg.(*Config), next)
}

// acquire returns a connector instance on the shared runner of set.ID,
// creating it (and loading the SLO files) for the first instance.
func (f *factory) acquire(set connector.Settings, cfg *Config, next consumer.Metrics) (*sloConnector, error) {
	ref, err := f.runners.LoadOrStore(set.ID, func() (*runner, error) {
		return newRunner(set.ID, cfg, set.TelemetrySettings, f.now)
	})
	if err != nil {
		return nil, err
	}
	ref.Value().next.Store(&next)
	return &sloConnector{ref: ref}, nil
}
