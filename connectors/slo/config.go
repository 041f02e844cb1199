package slo

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Config is the configuration of the slo connector.
type Config struct {
	// SLOs are SLO file paths or globs, read with formats.Load (obsd/v1,
	// Sloth prometheus/v1 or OpenSLO v1 files). At least one is required unless
	// 'discover' is set.
	SLOs []string `mapstructure:"slos"`
	// Discover, when set, gives every service without SLOs of its own an
	// availability and a latency SLO found from its spans (discover.go).
	Discover *DiscoverConfig `mapstructure:"discover"`
	// Gameday configures game-day drills (gameday.go).
	Gameday GamedayConfig `mapstructure:"gameday"`
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
	// AlertMode says where the SLOs' alerts are decided (alertmode.go):
	// "local" (default) this obsd evaluates and sends them; "ruler" it
	// counts and exports the exact window sums (obsd_slo_window_*) for a
	// Prometheus-compatible ruler that adds every agent's and alerts, and
	// never alerts itself; "both" does both.
	AlertMode string `mapstructure:"alert_mode"`
	// Instance tells this obsd's exported series apart from other agents'
	// (resource attribute service.instance.id: the `instance` label after
	// remote write). Agents exporting the same SLOs must differ; keep it
	// stable across restarts (a DaemonSet: the node name). Default: the
	// host name.
	Instance string `mapstructure:"instance"`
	// Storage names a storage extension (wal_storage) that journals every
	// accepted request's SLO events between two snapshots, so that a crash
	// (kill -9) loses none of them. With wal_storage the journal record of
	// a request is committed in the same batch as the exporter queue's put
	// of that request. Nil: no journal (a crash loses what was counted
	// since the last snapshot). Needs state.directory.
	Storage *component.ID `mapstructure:"storage"`
}

// ProcessorConfig is the configuration of the slo processor: none. The
// processor counts into the engine of the slo connector of the same ID,
// which carries the configuration.
type ProcessorConfig struct{}

var _ component.Config = (*ProcessorConfig)(nil)

// Validate accepts the empty configuration.
func (*ProcessorConfig) Validate() error { return nil }

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
		AlertMode:          contract.AlertsLocal,
		Gameday:            GamedayConfig{Enabled: true},
	}
}

// hasAlerting reports whether alerts are delivered anywhere.
func (c *Config) hasAlerting() bool { return c.Alerting != nil && len(c.Alerting.Destinations) > 0 }

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal decodes the config; the 'alerting' and 'discover' sections are
// decoded over their defaults so that only what differs needs writing (an
// empty 'discover:' turns discovery on with every default).
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	type plain Config // without this method
	if conf.IsSet("alerting") && c.Alerting == nil {
		d := alerting.DefaultConfig()
		c.Alerting = &d
	}
	if conf.IsSet("discover") && c.Discover == nil {
		d := defaultDiscoverConfig()
		c.Discover = &d
	}
	return conf.Unmarshal((*plain)(c))
}

// Validate checks the configuration and loads the SLO files, so that
// `obsd validate` reports a bad SLO file. Every problem is returned.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case len(c.SLOs) == 0 && c.Discover == nil:
		errs = append(errs, errors.New("'slos' must list at least one SLO file, or 'discover' be set"))
	case c.Discover != nil:
		if derrs := c.Discover.validate(); len(derrs) > 0 {
			errs = append(errs, derrs...)
		} else if _, _, err := c.LoadSLOs(Type.String()); err != nil {
			errs = append(errs, err)
		}
	default:
		if _, err := formats.Load(c.SLOs...); err != nil {
			errs = append(errs, fmt.Errorf("'slos': %w", err))
		}
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
	errs = append(errs, c.validateAlertMode()...)
	if c.hasAlerting() && c.AlertMode != contract.AlertsRuler {
		if c.State.Directory == "" {
			errs = append(errs, errors.New("'state.directory' is required when 'alerting.destinations' is set (it holds the alert outboxes)"))
		}
	}
	if c.Storage != nil && c.State.Directory == "" {
		errs = append(errs, errors.New("'state.directory' is required when 'storage' is set (each snapshot there truncates the journal)"))
	}
	return errors.Join(errs...)
}

// LoadSLOs returns every SLO of the connector: those of the 'slos' files,
// then the discovered ones (which leave out the files' services, also
// returned). source names the connector in messages.
func (c *Config) LoadSLOs(source string) (slos []*spec.SLO, explicit []string, err error) {
	if len(c.SLOs) > 0 {
		if slos, err = formats.Load(c.SLOs...); err != nil {
			return nil, nil, fmt.Errorf("'slos': %w", err)
		}
	}
	if c.Discover == nil {
		return slos, nil, nil
	}
	explicit = explicitServices(slos)
	discovered := c.Discover.specs(explicit, "connector "+source+" 'discover'")
	if err := errors.Join(checkDiscoveredNames(slos, discovered)...); err != nil {
		return nil, nil, err
	}
	return append(slos, discovered...), explicit, nil
}
