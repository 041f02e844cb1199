package sloconnector

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Config is the configuration of the slo connector.
type Config struct {
	// SLOs are SLO file paths or globs, read with spec.Load (obsd/v1 or
	// Sloth prometheus/v1 files). At least one is required.
	SLOs []string `mapstructure:"slos"`
	// EvaluationInterval is how often every SLO is evaluated, its metrics
	// emitted and its alert transitions handed to alerting (default 30s).
	EvaluationInterval time.Duration `mapstructure:"evaluation_interval"`
	// State configures SLO snapshots (persistence across restarts).
	State StateConfig `mapstructure:"state"`
	// Alerting is where alerts go. Without destinations, alerts are only
	// exposed as the obsd_slo_alert_active metric.
	Alerting alerting.Config `mapstructure:"alerting"`
	// MaxFutureSkew drops points stamped further than this ahead of the
	// wall clock (default 10m).
	MaxFutureSkew time.Duration `mapstructure:"max_future_skew"`
}

// StateConfig configures persistence.
type StateConfig struct {
	// Directory holds the SLO snapshot, the alerting state and the
	// alerting outboxes. Empty means no persistence (and no alerting
	// destinations).
	Directory string `mapstructure:"directory"`
	// SnapshotInterval is how often the snapshot is written (default 10s);
	// it is also written at shutdown.
	SnapshotInterval time.Duration `mapstructure:"snapshot_interval"`
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{
		EvaluationInterval: 30 * time.Second,
		State:              StateConfig{SnapshotInterval: 10 * time.Second},
		Alerting:           alerting.DefaultConfig(),
		MaxFutureSkew:      10 * time.Minute,
	}
}

// hasAlerting reports whether alerts are delivered anywhere.
func (c *Config) hasAlerting() bool { return len(c.Alerting.Destinations) > 0 }

// Validate checks the configuration and loads the SLO files, so that
// `obsd validate` reports a bad SLO file. Every problem is returned.
func (c *Config) Validate() error {
	var errs []error
	if len(c.SLOs) == 0 {
		errs = append(errs, errors.New("'slos' must list at least one SLO file"))
	} else if _, err := spec.Load(c.SLOs...); err != nil {
		errs = append(errs, fmt.Errorf("'slos': %w", err))
	}
	if c.EvaluationInterval <= 0 {
		errs = append(errs, errors.New("'evaluation_interval' must be greater than zero"))
	}
	if c.State.SnapshotInterval <= 0 {
		errs = append(errs, errors.New("'state.snapshot_interval' must be greater than zero"))
	}
	if c.MaxFutureSkew <= 0 {
		errs = append(errs, errors.New("'max_future_skew' must be greater than zero"))
	}
	if c.hasAlerting() {
		if c.State.Directory == "" {
			errs = append(errs, errors.New("'state.directory' is required when 'alerting.destinations' is set (it holds the alert outboxes)"))
		}
		if err := c.Alerting.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("'alerting': %w", err))
		}
	}
	return errors.Join(errs...)
}
