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
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

// Type is the component type named in configs.
var Type = component.MustNewType("slo")

const (
	// Stability of every pipeline pair of the connector.
	Stability = component.StabilityLevelAlpha
	scopeName = "github.com/obsd-dev/obsd/connectors/slo"
)

// factory holds one shared engine per component ID, reference-counted by
// the traces, metrics and logs instances created for that ID.
type factory struct {
	now    func() time.Time
	mu     sync.Mutex
	runners map[component.ID]*runner
}

// NewFactory returns the factory of the slo connector.
func NewFactory() connector.Factory { return newFactory(time.Now).build() }

func newFactory(now func() time.Time) *factory {
	return &factory{now: now, runners: map[component.ID]*runner{}}
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

// acquire returns a connector instance on the shared engine of set.ID,
// creating it (and loading the SLO files) for the first instance.
func (f *factory) acquire(set connector.Settings, cfg *Config, next consumer.Metrics) (*sloConnector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.runners[set.ID]
	if !ok {
		var err error
		if s, err = newRunner(set.ID, cfg, set.TelemetrySettings, f.now); err != nil {
			return nil, err
		}
		f.runners[set.ID] = s
	}
	s.next.Store(&next)
	s.mu.Lock()
	s.refs++
	s.mu.Unlock()
	return &sloConnector{f: f, s: s}, nil
}

// release forgets s once its last instance shut down.
func (f *factory) release(s *runner) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.runners[s.id] == s {
		delete(f.runners, s.id)
	}
}
