package sloconnector

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo/formats"
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
	// Alerting is where alerts go (alerting.Config, decoded over
	// alerting.DefaultConfig). Without it, alerts are only exposed as the
	// obsd_slo_alert_active metric. When present it must be valid: the
	// collector validates it through alerting.Config.Validate.
	Alerting *alerting.Config `mapstructure:"alerting"`
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
		MaxFutureSkew:      10 * time.Minute,
	}
}

// hasAlerting reports whether alerts are delivered anywhere.
func (c *Config) hasAlerting() bool { return c.Alerting != nil && len(c.Alerting.Destinations) > 0 }

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal decodes the config; an 'alerting' section is decoded over
// alerting.DefaultConfig so that only what differs needs writing.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	type plain Config // without this method
	if conf.IsSet("alerting") && c.Alerting == nil {
		d := alerting.DefaultConfig()
		c.Alerting = &d
	}
	return conf.Unmarshal((*plain)(c))
}

// Validate checks the configuration and loads the SLO files, so that
// `obsd validate` reports a bad SLO file. Every problem is returned.
func (c *Config) Validate() error {
	var errs []error
	if len(c.SLOs) == 0 {
		errs = append(errs, errors.New("'slos' must list at least one SLO file"))
	} else if _, err := formats.Load(c.SLOs...); err != nil {
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
	}
	return errors.Join(errs...)
}
